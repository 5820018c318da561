using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// DyT y = γ·tanh(αx) + β. Tolerances: 1e-6·max|ref| + 1e-9 against the double reference and libtorch (the row sums
/// dα, dγ, dβ are accumulated in double on both sides), 1e-4·max|ref| + 1e-5 against central differences.
/// </summary>
public class DytTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dyt_FastVsReferenceEveryWidth1To256_Match(bool wide)
    {
        const int n = 3;
        for (int c = 1; c <= 256; c++)
        {
            var p = Problem.Create(n, c, seed: c);
            var y = new float[n * c];
            var yRef = new float[n * c];
            Dyt.ForwardFast(p.X, p.Alpha[0], p.Gamma, p.Beta, y, n, c, wide);
            Dyt.ForwardReference(p.X, p.Alpha, p.Gamma, p.Beta, yRef, n, c);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"DyT forward, C = {c}, wide = {wide}");

            Grads fast = Grads.Create(n, c, seed: 7 * c), reference = fast.Copy();
            Dyt.BackwardFast(p.Dy, p.X, p.Alpha[0], p.Gamma, fast.Dx, fast.Dalpha, fast.Dgamma, fast.Dbeta, n, c, wide);
            Dyt.BackwardReference(p.Dy, p.X, p.Alpha, p.Gamma, reference.Dx, reference.Dalpha, reference.Dgamma, reference.Dbeta, n, c);
            fast.AssertClose(reference, 1e-6, 1e-9, $"DyT backward, C = {c}, wide = {wide}");
        }
    }

    [Fact]
    public void Dyt_MultiThreadedShapes_MatchReference()
    {
        const int n = 700, c = 300;
        var p = Problem.Create(n, c, seed: 1);
        var y = new float[n * c];
        var yRef = new float[n * c];
        Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, n, c);
        Dyt.ForwardReference(p.X, p.Alpha, p.Gamma, p.Beta, yRef, n, c);
        Compare.Close(y, yRef, 1e-6, 1e-9, "DyT forward, threaded");
        Grads fast = Grads.Create(n, c, seed: 2), reference = fast.Copy();
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, fast.Dx, fast.Dalpha, fast.Dgamma, fast.Dbeta, n, c);
        Dyt.BackwardReference(p.Dy, p.X, p.Alpha, p.Gamma, reference.Dx, reference.Dalpha, reference.Dgamma, reference.Dbeta, n, c);
        fast.AssertClose(reference, 1e-6, 1e-9, "DyT backward, threaded");
    }

    [Fact]
    public void Dyt_EmptyGradients_AreSkippedOthersUnchanged()
    {
        const int n = 5, c = 33;
        var p = Problem.Create(n, c, seed: 3);
        Grads all = Grads.Create(n, c, seed: 4), some = all.Copy();
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, all.Dx, all.Dalpha, all.Dgamma, all.Dbeta, n, c);
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, default, some.Dalpha, default, some.Dbeta, n, c);
        Assert.Equal(all.Dalpha, some.Dalpha);
        Assert.Equal(all.Dbeta, some.Dbeta);
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, some.Dx, default, some.Dgamma, default, n, c);
        Assert.Equal(all.Dx, some.Dx);
        Assert.Equal(all.Dgamma, some.Dgamma);
    }

    [Fact]
    public void Dyt_GradientsVsFiniteDifferences_Match()
    {
        const int n = 4, c = 19;
        var p = Problem.Create(n, c, seed: 5);
        var y = new float[n * c];
        double Loss()
        {
            Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, n, c);
            return ReluSiluTests.Dot(y, p.Dy);
        }

        // y carries β (|y| ~ 3), so float rounding of y over 2h is ~1e-4 at h = 1e-3; h = 1e-2 cuts that tenfold while
        // the truncation error h²/6·|f‴| stays ~1e-5 (tanh's derivatives are bounded).
        const double h = 1e-2;
        Grads grads = Grads.Zero(n, c);
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, grads.Dx, grads.Dalpha, grads.Dgamma, grads.Dbeta, n, c);
        Compare.Close(grads.Dx, GradientChecker.Numerical(p.X, Loss, h), 1e-4, 1e-5, "DyT dx vs central differences");
        Compare.Close(grads.Dalpha, GradientChecker.Numerical(p.Alpha, Loss, h), 1e-4, 1e-5, "DyT dα vs central differences");
        Compare.Close(grads.Dgamma, GradientChecker.Numerical(p.Gamma, Loss, h), 1e-4, 1e-5, "DyT dγ vs central differences");
        Compare.Close(grads.Dbeta, GradientChecker.Numerical(p.Beta, Loss, h), 1e-4, 1e-5, "DyT dβ vs central differences");
    }

    [Fact]
    public void Dyt_VsTorch_ForwardAndEveryGradientMatch()
    {
        const int n = 9, c = 45;
        var p = Problem.Create(n, c, seed: 6);
        var (yT, gradT) = ActivationTorch.Run(t => t[2] * tanh(t[1] * t[0]) + t[3], p.Dy,
            (p.X, new long[] { n, c }), (p.Alpha, new long[] { 1 }), (p.Gamma, new long[] { c }), (p.Beta, new long[] { c }));
        var y = new float[n * c];
        Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, n, c);
        Grads grads = Grads.Zero(n, c);
        Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, grads.Dx, grads.Dalpha, grads.Dgamma, grads.Dbeta, n, c);
        Compare.Close(y, yT, 1e-6, 1e-9, "DyT forward vs torch");
        Compare.Close(grads.Dx, gradT[0], 1e-6, 1e-9, "DyT dx vs torch");
        Compare.Close(grads.Dalpha, gradT[1], 1e-6, 1e-9, "DyT dα vs torch");
        Compare.Close(grads.Dgamma, gradT[2], 1e-6, 1e-9, "DyT dγ vs torch");
        Compare.Close(grads.Dbeta, gradT[3], 1e-6, 1e-9, "DyT dβ vs torch");
    }

    [Fact]
    public void Dyt_SpecialValues_TanhLimitsAndNaN()
    {
        float[] x = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e-6f, -50f };
        float[] y = new float[5], alpha = { 0.5f }, gamma = { 2f, 2f, 2f, 2f, 2f }, beta = { 1f, 1f, 1f, 1f, 1f };
        Dyt.Forward(x, alpha, gamma, beta, y, 1, 5);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(3f, y[1]);
        Assert.Equal(-1f, y[2]);
        Assert.Equal(1f + 1e-6f, y[3]);
        Assert.Equal(-1f, y[4]);
    }

    [Fact]
    public void Dyt_InPlace_EqualsOutOfPlace()
    {
        var p = Problem.Create(3, 20, seed: 8);
        var y = new float[60];
        Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, 3, 20);
        Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, p.X, 3, 20);
        Assert.Equal(y, p.X);
    }

    [Fact]
    public void Dyt_BadInput_ThrowsNamingArgument()
    {
        var p = Problem.Create(2, 4, seed: 9);
        var y = Enumerable.Repeat(3f, 8).ToArray();
        Assert.Equal("alpha", Assert.Throws<ArgumentException>(() => Dyt.Forward(p.X, new float[2], p.Gamma, p.Beta, y, 2, 4)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => Dyt.Forward(p.X, p.Alpha, new float[3], p.Beta, y, 2, 4)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => Dyt.Forward(p.X, p.Alpha, p.Gamma, new float[5], y, 2, 4)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, 3, 4)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentOutOfRangeException>(() => Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, y, 2, 0)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Dyt.Forward(p.X, p.Alpha, p.Gamma, p.Beta, p.Gamma, 2, 4)).ParamName);
        Assert.All(y, v => Assert.Equal(3f, v));
        Assert.Equal("dgamma", Assert.Throws<ArgumentException>(() =>
            Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, new float[8], new float[1], new float[3], new float[4], 2, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() =>
            Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, p.Dy, new float[1], new float[4], new float[4], 2, 4)).ParamName);
        var shared = new float[8];
        Assert.Equal("dbeta", Assert.Throws<ArgumentException>(() =>
            Dyt.Backward(p.Dy, p.X, p.Alpha, p.Gamma, default, default, shared.AsSpan(0, 4), shared.AsSpan(2, 4), 2, 4)).ParamName);
    }

    private sealed record Problem(float[] X, float[] Alpha, float[] Gamma, float[] Beta, float[] Dy)
    {
        public static Problem Create(int n, int c, int seed)
        {
            float[] gamma = Compare.Randn(c, seed + 2), beta = Compare.Randn(c, seed + 3);
            return new Problem(ActivationTorch.Spread(n * c, seed), new[] { 0.7f }, gamma, beta, Compare.Randn(n * c, seed + 1));
        }
    }

    private sealed record Grads(float[] Dx, float[] Dalpha, float[] Dgamma, float[] Dbeta)
    {
        public static Grads Create(int n, int c, int seed) =>
            new(Compare.Randn(n * c, seed), Compare.Randn(1, seed + 1), Compare.Randn(c, seed + 2), Compare.Randn(c, seed + 3));

        public static Grads Zero(int n, int c) => new(new float[n * c], new float[1], new float[c], new float[c]);

        public Grads Copy() => new((float[])Dx.Clone(), (float[])Dalpha.Clone(), (float[])Dgamma.Clone(), (float[])Dbeta.Clone());

        public void AssertClose(Grads reference, double rtol, double atol, string what)
        {
            Compare.Close(Dx, reference.Dx, rtol, atol, what + " dx");
            // dα is one sum over N·C terms of both signs added to a random start: it can end far smaller than its
            // terms, so its tolerance is relative to the terms' scale (the start, ~1, and N·C·1e-7 rounding), not to itself.
            Compare.Close(Dalpha, reference.Dalpha, 0, rtol * (1 + Dx.Length), what + " dα");
            Compare.Close(Dgamma, reference.Dgamma, rtol, atol, what + " dγ");
            Compare.Close(Dbeta, reference.Dbeta, rtol, atol, what + " dβ");
        }
    }
}
