using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances: as SoftmaxTests for probabilities; the loss (a mean of log-sum-exps, O(1..10)) within 1e-6 relative of
// the double reference; finite differences of the loss itself (no projection): 2e-3 relative + 1e-4 absolute.
public class SoftmaxCrossEntropyTests
{
    private static int[] Targets(int n, int v, int seed, bool withIgnored = true)
    {
        var rng = new Random(seed);
        // Every third row ignored (when asked), so the mean divides by fewer rows than N.
        return Enumerable.Range(0, n).Select(i => withIgnored && i % 3 == 1 ? -1 : rng.Next(v)).ToArray();
    }

    [Fact]
    public void ForwardBackward_EveryVAndOddRows_MatchReference()
    {
        for (int v = 1; v <= 256; v++)
        {
            foreach (int n in OddRows)
            {
                float[] logits = Randn(n * v, v * 10 + n, 3f);
                int[] t = Targets(n, v, v + n);
                float[] p = new float[n * v], p0 = new float[n * v];
                float loss = SoftmaxCrossEntropy.Forward(logits, t, p, n, v);
                float loss0 = SoftmaxCrossEntropy.ForwardReference(logits, t, p0, n, v);
                Assert.True(Math.Abs(loss - loss0) <= 1e-6 * Math.Max(1, Math.Abs(loss0)), $"loss n={n} v={v}: {loss} vs {loss0}");
                Compare.Close(p, p0, 1e-5, 1e-7, $"probs n={n} v={v}");
                float[] d = Randn(n * v, 1), d0 = (float[])d.Clone();
                SoftmaxCrossEntropy.Backward(p0, t, d, n, v, 1.7f);
                SoftmaxCrossEntropy.BackwardReference(p0, t, d0, n, v, 1.7f);
                Compare.Close(d, d0, 1e-6, 1e-7, $"dlogits n={n} v={v}");
            }
        }
    }

    [Fact]
    public void Forward_ManyRowsWithLargeSums_LossMatchesReference()
    {
        // Small logits make every row's Σ close to V = 300, so the running product of the Σs that replaces one log
        // per row passes 1e280 every ~110 rows and is logged and restarted several times over 1,000 rows.
        const int n = 1000, v = 300;
        float[] logits = Randn(n * v, 41, 0.01f);
        int[] t = Targets(n, v, 42);
        float[] p = new float[n * v], p0 = new float[n * v];
        float loss = SoftmaxCrossEntropy.Forward(logits, t, p, n, v);
        float loss0 = SoftmaxCrossEntropy.ForwardReference(logits, t, p0, n, v);
        Assert.True(Math.Abs(loss - loss0) <= 1e-6 * Math.Abs(loss0), $"loss {loss} vs {loss0}");
    }

    [Fact]
    public void Forward_NaNLogitInOneRow_LossIsNaN()
    {
        const int n = 9, v = 40;
        float[] logits = Randn(n * v, 43);
        logits[5 * v + 37] = float.NaN;
        float[] p = new float[n * v];
        Assert.True(float.IsNaN(SoftmaxCrossEntropy.Forward(logits, Targets(n, v, 44, withIgnored: false), p, n, v)));
    }

    [Fact]
    public void ForwardBackward_LargeThreadedShape_MatchReference()
    {
        const int n = 128, v = 2000;
        float[] logits = Randn(n * v, 5, 4f);
        int[] t = Targets(n, v, 6);
        float[] p = new float[n * v], p0 = new float[n * v], d = new float[n * v], d0 = new float[n * v];
        float loss = SoftmaxCrossEntropy.Forward(logits, t, p, n, v);
        float loss0 = SoftmaxCrossEntropy.ForwardReference(logits, t, p0, n, v);
        Assert.True(Math.Abs(loss - loss0) <= 1e-6 * Math.Abs(loss0), $"loss {loss} vs {loss0}");
        Compare.Close(p, p0, 1e-5, 1e-7, "probs");
        SoftmaxCrossEntropy.Backward(p, t, d, n, v);
        SoftmaxCrossEntropy.BackwardReference(p, t, d0, n, v);
        Compare.Close(d, d0, 1e-6, 1e-8, "dlogits");
    }

    [Theory]
    [InlineData(4, 7)]
    [InlineData(3, 37)]
    public void Backward_MatchesFiniteDifferencesOfTheLoss(int n, int v)
    {
        float[] logits = Randn(n * v, 41, 2f);
        int[] t = Targets(n, v, 42);
        float[] p = new float[n * v];
        double Loss() => SoftmaxCrossEntropy.Forward(logits, t, p, n, v);
        Loss();
        float[] d = new float[n * v];
        SoftmaxCrossEntropy.Backward(p, t, d, n, v);
        Compare.Close(d, GradientChecker.Numerical(logits, Loss), 2e-3, 1e-4, "dlogits vs finite differences");
    }

    [Theory]
    [InlineData(7, 45)]
    [InlineData(64, 768)]
    public void ForwardBackward_IgnoredRows_MatchTorchCrossEntropy(int n, int v)
    {
        const float dloss = 2.5f;
        float[] logits = Randn(n * v, 51, 3f);
        int[] t = Targets(n, v, 52);
        float[] p = new float[n * v], d = new float[n * v];
        float loss = SoftmaxCrossEntropy.Forward(logits, t, p, n, v);
        SoftmaxCrossEntropy.Backward(p, t, d, n, v, dloss);

        using var scope = Scope();
        var tl = T(logits, new long[] { n, v }, grad: true);
        var tt = torch.tensor(t.Select(i => (long)i).ToArray());
        var tloss = torch.nn.functional.cross_entropy(tl, tt, ignore_index: -1);
        (tloss * dloss).backward();
        float want = tloss.item<float>();
        Assert.True(Math.Abs(loss - want) <= 1e-5 * Math.Abs(want), $"loss {loss} vs torch {want}");
        Compare.Close(p, Torch.TorchInterop.ToArray(torch.nn.functional.softmax(tl, -1)), 1e-5, 0, "probs vs torch");
        Compare.Close(d, Grad(tl), 1e-5, 0, "dlogits vs torch");
    }

    [Fact]
    public void Forward_HugeLogitsAndTinyTargetProbability_FiniteExactLoss()
    {
        // The target's probability is e^-200, far below float's range: −log(prob) would be ∞, log-sum-exp is exact.
        float[] logits = { 100f, -100f, 0f };
        float[] p = new float[3];
        float loss = SoftmaxCrossEntropy.Forward(logits, new[] { 1 }, p, 1, 3);
        Assert.Equal(200.0, loss, 3);
        Assert.Equal(0f, p[1]);
    }

    [Fact]
    public void ForwardBackward_AllRowsIgnored_NaNLossAndNoGradient()
    {
        float[] logits = Randn(6, 61), p = new float[6], d = new float[6];
        int[] t = { -1, -1 };
        Assert.True(float.IsNaN(SoftmaxCrossEntropy.Forward(logits, t, p, 2, 3)));
        SoftmaxCrossEntropy.Backward(p, t, d, 2, 3);
        Assert.All(d, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-2)]
    [InlineData(int.MaxValue)]
    public void ForwardBackward_TargetOutOfRange_ThrowsBeforeAnyWork(int bad)
    {
        float[] logits = Randn(6, 71), p = new float[6], d = new float[6];
        int[] t = { 0, bad };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Forward(logits, t, p, 2, 3));
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("targets[1]", e.Message, StringComparison.Ordinal);
        Assert.All(p, v => Assert.Equal(0f, v));
        Assert.Equal("targets", Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Backward(p, t, d, 2, 3)).ParamName);
        Assert.All(d, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ForwardBackward_BadShapes_ThrowNamingTheArgument()
    {
        float[] logits = new float[6], p = new float[6];
        int[] t = { 0, 1 };
        Assert.Equal("v", Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxCrossEntropy.Forward(logits, t, p, 2, 0)).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(logits, t, p, 2, 4)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(logits, new[] { 0 }, p, 2, 3)).ParamName);
        Assert.Equal("probs", Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(logits, t, new float[5], 2, 3)).ParamName);
        Assert.Equal("probs", Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Forward(logits, t, logits, 2, 3)).ParamName);
        Assert.Equal("dlogits", Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Backward(p, t, p, 2, 3)).ParamName);
    }
}
