using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using CourseLib.Torch;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances as in LayerNormTests: fast vs double-accumulating reference 1e-5 relative + 1e-6 absolute;
// finite differences through the float kernel 2e-3 relative + 2e-4 absolute; libtorch 1e-5 relative.
// TorchSharp 0.107 has no rms_norm, so the libtorch side is composed: x·rsqrt(mean(x²) + eps)·γ, with autograd.
public class RmsNormTests
{
    private static (float[] x, float[] g) Inputs(int n, int c, int seed) => (Randn(n * c, seed, 2f, 0.5f), Randn(c, seed + 1, 0.5f, 1f));

    [Fact]
    public void ForwardBackward_EveryCAndOddRows_MatchReference()
    {
        for (int c = 1; c <= 256; c++)
        {
            foreach (int n in OddRows)
            {
                var (x, g) = Inputs(n, c, c * 10 + n);
                float[] dy = Randn(n * c, c + 7000 + n);
                float[] y = new float[n * c], r = new float[n], y0 = new float[n * c], r0 = new float[n];
                RmsNorm.Forward(x, g, y, r, n, c);
                RmsNorm.ForwardReference(x, g, y0, r0, n, c);
                Compare.Close(y, y0, 1e-5, 1e-6, $"y n={n} c={c}");
                Compare.Close(r, r0, 1e-5, 0, $"rstd n={n} c={c}");
                float[] dx = Randn(n * c, 1), dg = Randn(c, 2), dx0 = (float[])dx.Clone(), dg0 = (float[])dg.Clone();
                RmsNorm.Backward(dy, x, g, r0, dx, dg, n, c);
                RmsNorm.BackwardReference(dy, x, g, r0, dx0, dg0, n, c);
                Compare.Close(dx, dx0, 1e-5, 1e-6, $"dx n={n} c={c}");
                Compare.Close(dg, dg0, 1e-5, 1e-6, $"dgamma n={n} c={c}");
            }
        }
    }

    [Fact]
    public void ForwardBackward_LargeThreadedShape_MatchReference()
    {
        const int n = 300, c = 384;
        var (x, g) = Inputs(n, c, 5);
        float[] dy = Randn(n * c, 6);
        float[] y = new float[n * c], r = new float[n], y0 = new float[n * c], r0 = new float[n];
        RmsNorm.Forward(x, g, y, r, n, c);
        RmsNorm.ForwardReference(x, g, y0, r0, n, c);
        Compare.Close(y, y0, 1e-5, 1e-6, "y");
        float[] dx = new float[n * c], dg = new float[c], dx0 = new float[n * c], dg0 = new float[c];
        RmsNorm.Backward(dy, x, g, r, dx, dg, n, c);
        RmsNorm.BackwardReference(dy, x, g, r, dx0, dg0, n, c);
        Compare.Close(dx, dx0, 1e-5, 1e-6, "dx");
        Compare.Close(dg, dg0, 1e-5, 1e-5, "dgamma");
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(2, 45)]
    public void Backward_AllGradients_MatchFiniteDifferences(int n, int c)
    {
        var (x, g) = Inputs(n, c, 13);
        float[] w = Randn(n * c, 14);
        float[] y = new float[n * c], r = new float[n];
        double Loss()
        {
            RmsNorm.Forward(x, g, y, r, n, c);
            return Dot(y, w);
        }

        Loss();
        float[] dx = new float[n * c], dg = new float[c];
        RmsNorm.Backward(w, x, g, r, dx, dg, n, c);
        Compare.Close(dx, GradientChecker.Numerical(x, Loss), 2e-3, 2e-4, "dx vs finite differences");
        Compare.Close(dg, GradientChecker.Numerical(g, Loss), 2e-3, 2e-4, "dgamma vs finite differences");
    }

    [Theory]
    [InlineData(7, 45)]
    [InlineData(64, 768)]
    public void ForwardBackward_SameInputs_MatchTorch(int n, int c)
    {
        const float eps = 1e-6f;
        var (x, g) = Inputs(n, c, 23);
        float[] w = Randn(n * c, 24);
        float[] y = new float[n * c], r = new float[n], dx = new float[n * c], dg = new float[c];
        RmsNorm.Forward(x, g, y, r, n, c, eps);
        RmsNorm.Backward(w, x, g, r, dx, dg, n, c);

        using var scope = Scope();
        var tx = T(x, new long[] { n, c }, grad: true);
        var tg = T(g, new long[] { c }, grad: true);
        var ty = tx * torch.rsqrt(tx.pow(TorchConstants.Of(2)).mean(new long[] { -1 }, keepdim: true) + TorchConstants.Of(eps)) * tg;
        (ty * T(w, new long[] { n, c })).sum().backward();
        Compare.Close(y, Torch.TorchInterop.ToArray(ty), 1e-5, 0, "y vs torch");
        Compare.Close(dx, Grad(tx), 1e-5, 1e-6, "dx vs torch");
        Compare.Close(dg, Grad(tg), 1e-5, 1e-6, "dgamma vs torch");
    }

    [Fact]
    public void Forward_ScaledInput_SameOutput()
    {
        const int n = 3, c = 50;
        var (x, g) = Inputs(n, c, 33);
        float[] scaled = x.Select(v => v * 8f).ToArray();
        float[] y1 = new float[n * c], y2 = new float[n * c], r = new float[n];
        RmsNorm.Forward(x, g, y1, r, n, c, eps: 0f);
        RmsNorm.Forward(scaled, g, y2, r, n, c, eps: 0f);
        Compare.Close(y2, y1, 1e-6, 1e-6, "RMSNorm(8x) vs RMSNorm(x)");
    }

    [Fact]
    public void Forward_ShiftedInput_DifferentOutput()
    {
        // No mean subtraction: adding a constant changes the output (LayerNorm's LN(x + c) = LN(x) fails here).
        const int n = 3, c = 50;
        var (x, g) = Inputs(n, c, 34);
        float[] shifted = x.Select(v => v + 3f).ToArray();
        float[] y1 = new float[n * c], y2 = new float[n * c], r = new float[n];
        RmsNorm.Forward(x, g, y1, r, n, c);
        RmsNorm.Forward(shifted, g, y2, r, n, c);
        double maxDiff = y1.Zip(y2, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff > 0.1, $"RMSNorm(x + 3) should differ from RMSNorm(x), max|diff| = {maxDiff}");
    }

    [Fact]
    public void ForwardBackward_BadArguments_ThrowNamingTheArgument()
    {
        float[] x = new float[12], g = new float[4], y = new float[12], r = new float[3], dx = new float[12];
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.Forward(x, g, y, r, -1, 4)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => RmsNorm.Forward(x, g, y, r, 2, 4)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => RmsNorm.Forward(x, new float[5], y, r, 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => RmsNorm.Forward(x, g, x, r, 3, 4)).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => RmsNorm.Forward(x, g, y, new float[1], 3, 4)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => RmsNorm.Forward(x, g, y, r, 3, 4, float.NaN)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => RmsNorm.Backward(y, x, g, r, new float[5], g, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => RmsNorm.Backward(y, x, g, r, x, Span<float>.Empty, 3, 4)).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => RmsNorm.Backward(y, x, g, new float[4], dx, Span<float>.Empty, 3, 4)).ParamName);
    }
}
