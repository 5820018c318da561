using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// Gated units on h = [gate | value]. Tolerances as GeluTests: 1e-6·max|ref| + 1e-9 against the double reference and
/// libtorch, 1e-4·max|ref| + 1e-5 against central differences.
/// </summary>
public class GatedTests
{
    public static TheoryData<GateKind> Kinds => new() { GateKind.Glu, GateKind.ReGlu, GateKind.GeGlu, GateKind.SwiGlu };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gated_FastVsReferenceEveryHidden1To100_Match(GateKind kind)
    {
        const int n = 3;
        for (int hidden = 1; hidden <= 100; hidden++)
        {
            float[] h = ActivationTorch.Spread(n * 2 * hidden, hidden), dy = Compare.Randn(n * hidden, 100 + hidden);
            var y = new float[n * hidden];
            var yRef = new float[n * hidden];
            Gated.Forward(h, y, n, hidden, kind);
            Gated.ForwardReference(h, yRef, n, hidden, kind);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"{kind} forward, H = {hidden}");
            float[] dh = Compare.Randn(n * 2 * hidden, 200 + hidden), dhRef = (float[])dh.Clone(), dh256 = (float[])dh.Clone();
            Gated.Backward(dy, h, dh, n, hidden, kind);
            Gated.BackwardReference(dy, h, dhRef, n, hidden, kind);
            Compare.Close(dh, dhRef, 1e-6, 1e-9, $"{kind} backward, H = {hidden}");

            var y256 = new float[n * hidden];
            Rows256(kind, h, y256, default, default, n, hidden, backward: false);
            Rows256(kind, h, default, dy, dh256, n, hidden, backward: true);
            Compare.Close(y256, yRef, 1e-6, 1e-9, $"{kind} Vector256 forward, H = {hidden}");
            Compare.Close(dh256, dhRef, 1e-6, 1e-9, $"{kind} Vector256 backward, H = {hidden}");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gated_MultiThreadedRows_MatchReference(GateKind kind)
    {
        const int hidden = 96;
        int n = 2 * (Elementwise.MinPerThread / hidden) + 1;
        float[] h = ActivationTorch.Spread(n * 2 * hidden, 3), dy = Compare.Randn(n * hidden, 4);
        var y = new float[n * hidden];
        var yRef = new float[n * hidden];
        Gated.Forward(h, y, n, hidden, kind);
        Gated.ForwardReference(h, yRef, n, hidden, kind);
        Compare.Close(y, yRef, 1e-6, 1e-9, $"{kind} forward, N = {n}");
        var dh = new float[n * 2 * hidden];
        var dhRef = new float[n * 2 * hidden];
        Gated.Backward(dy, h, dh, n, hidden, kind);
        Gated.BackwardReference(dy, h, dhRef, n, hidden, kind);
        Compare.Close(dh, dhRef, 1e-6, 1e-9, $"{kind} backward, N = {n}");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gated_GradientVsFiniteDifferences_Match(GateKind kind)
    {
        const int n = 3, hidden = 21;
        // Unit-scale inputs: the float rounding of y, divided by 2h, is the finite differences' noise, and it grows with |y|.
        float[] h = ActivationTorch.AwayFromZero(Compare.Randn(n * 2 * hidden, 5)), g = Compare.Randn(n * hidden, 6);
        var y = new float[n * hidden];
        double[] numeric = GradientChecker.Numerical(h, () =>
        {
            Gated.Forward(h, y, n, hidden, kind);
            return ReluSiluTests.Dot(y, g);
        });
        var dh = new float[n * 2 * hidden];
        Gated.Backward(g, h, dh, n, hidden, kind);
        Compare.Close(dh, numeric, 1e-4, 1e-5, $"{kind} dh vs central differences");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gated_VsTorch_ForwardAndGradientMatch(GateKind kind)
    {
        const int n = 7, hidden = 37;
        float[] h = ActivationTorch.Spread(n * 2 * hidden, 7), g = Compare.Randn(n * hidden, 8);
        var (yT, gradT) = ActivationTorch.Run(t =>
        {
            Tensor gate = t[0].narrow(1, 0, hidden), value = t[0].narrow(1, hidden, hidden);
            Tensor act = kind switch
            {
                GateKind.Glu => sigmoid(gate),
                GateKind.ReGlu => nn.functional.relu(gate),
                GateKind.GeGlu => ActivationTorch.Gelu(gate, exact: true),
                _ => nn.functional.silu(gate),
            };
            return act * value;
        }, g, (h, new long[] { n, 2 * hidden }));
        var y = new float[n * hidden];
        var dh = new float[n * 2 * hidden];
        Gated.Forward(h, y, n, hidden, kind);
        Gated.Backward(g, h, dh, n, hidden, kind);
        Compare.Close(y, yT, 1e-6, 1e-9, $"{kind} forward vs torch");
        Compare.Close(dh, gradT[0], 1e-6, 1e-9, $"{kind} dh vs torch");
    }

    [Fact]
    public void Glu_VsTorchGluWithHalvesSwapped_Matches()
    {
        // torch's F.glu(a | b) = a ⊙ σ(b) gates with the second half; ours gates with the first.
        const int n = 5, hidden = 19;
        float[] h = ActivationTorch.Spread(n * 2 * hidden, 9);
        var y = new float[n * hidden];
        Gated.Forward(h, y, n, hidden, GateKind.Glu);
        var (yT, _) = ActivationTorch.Run(t =>
        {
            Tensor swapped = cat(new[] { t[0].narrow(1, hidden, hidden), t[0].narrow(1, 0, hidden) }, 1);
            return nn.functional.glu(swapped, 1);
        }, new float[n * hidden], (h, new long[] { n, 2 * hidden }));
        Compare.Close(y, yT, 1e-6, 1e-9, "GLU vs torch F.glu on [value | gate]");
    }

    [Fact]
    public void Gated_BadInput_ThrowsNamingArgument()
    {
        var h = new float[2 * 3 * 4];
        var y = Enumerable.Repeat(5f, 12).ToArray();
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Gated.Forward(h, y, 0, 4, GateKind.Glu)).ParamName);
        Assert.Equal("hidden", Assert.Throws<ArgumentOutOfRangeException>(() => Gated.Forward(h, y, 3, -1, GateKind.Glu)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => Gated.Forward(h, y, 3, 5, GateKind.SwiGlu));
        Assert.Equal("h", e.ParamName);
        Assert.Contains("24", e.Message, StringComparison.Ordinal);
        Assert.Contains("30", e.Message, StringComparison.Ordinal);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gated.Forward(h, new float[11], 3, 4, GateKind.Glu)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Gated.Forward(h, h.AsSpan(0, 12), 3, 4, GateKind.Glu)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentOutOfRangeException>(() => Gated.Forward(h, y, 3, 4, (GateKind)9)).ParamName);
        Assert.Equal("dh", Assert.Throws<ArgumentException>(() => Gated.Backward(new float[12], h, new float[23], 3, 4, GateKind.Glu)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Gated.Backward(new float[13], h, new float[24], 3, 4, GateKind.Glu)).ParamName);
        Assert.Equal("dh", Assert.Throws<ArgumentException>(() => Gated.Backward(new float[12], h, h, 3, 4, GateKind.Glu)).ParamName);
        Assert.All(y, v => Assert.Equal(5f, v));
    }

    private static void Rows256(GateKind kind, ReadOnlySpan<float> h, Span<float> y, ReadOnlySpan<float> dy, Span<float> dh, int n, int hidden, bool backward)
    {
        switch (kind)
        {
            case GateKind.Glu: Gated.Rows<SigmoidOp>(h, y, dy, dh, 0, n, hidden, backward, wide: false); break;
            case GateKind.ReGlu: Gated.Rows<ReluOp>(h, y, dy, dh, 0, n, hidden, backward, wide: false); break;
            case GateKind.GeGlu: Gated.Rows<GeluErfOp>(h, y, dy, dh, 0, n, hidden, backward, wide: false); break;
            default: Gated.Rows<SiluOp>(h, y, dy, dh, 0, n, hidden, backward, wide: false); break;
        }
    }
}
