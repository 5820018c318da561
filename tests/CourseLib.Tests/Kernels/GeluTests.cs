using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// Tolerances: fast vs the double reference ≤ 1e-6·max|ref| (the fast path is within a few ulp element-wise; the
/// slack covers the far tail where the rounded exponent −x²/2 costs ~x²·2⁻²⁴ relative); vs libtorch ≤ 1e-6·max|ref|
/// (measured ~1e-7: both are float implementations of the same formula, torch's erf is Abramowitz–Stegun 7.1.26
/// with 1.5e-7 absolute error); vs central differences 1e-4·max|ref| + 1e-5 (float rounding of y divided by 2h).
/// </summary>
public class GeluTests
{
    public static TheoryData<GeluApproximation> Forms => new() { GeluApproximation.None, GeluApproximation.Tanh };

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_FastVsReferenceEveryLength1To256_Match(GeluApproximation form)
    {
        for (int len = 1; len <= 256; len++)
        {
            float[] x = ActivationTorch.Spread(len, 100 + len), dy = Compare.Randn(len, 200 + len);
            var y = new float[len];
            var yRef = new float[len];
            Gelu.Forward(x, y, form);
            Gelu.ForwardReference(x, yRef, form);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"GELU {form} forward, length {len}");

            float[] dx = Compare.Randn(len, 300 + len), dxRef = (float[])dx.Clone();
            Gelu.Backward(dy, x, dx, form);
            Gelu.BackwardReference(dy, x, dxRef, form);
            Compare.Close(dx, dxRef, 1e-6, 1e-9, $"GELU {form} backward, length {len}");
        }
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_Vector256PathEveryLength_MatchesReference(GeluApproximation form)
    {
        for (int len = 1; len <= 100; len++)
        {
            float[] x = ActivationTorch.Spread(len, 400 + len), dy = Compare.Randn(len, 500 + len);
            var y = new float[len];
            var yRef = new float[len];
            var dx = new float[len];
            var dxRef = new float[len];
            if (form == GeluApproximation.None)
            {
                Elementwise.ForwardRange<GeluErfOp>(x, y, wide: false);
                Elementwise.BackwardRange<GeluErfOp>(dy, x, dx, wide: false);
            }
            else
            {
                Elementwise.ForwardRange<GeluTanhOp>(x, y, wide: false);
                Elementwise.BackwardRange<GeluTanhOp>(dy, x, dx, wide: false);
            }

            Gelu.ForwardReference(x, yRef, form);
            Gelu.BackwardReference(dy, x, dxRef, form);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"GELU {form} Vector256 forward, length {len}");
            Compare.Close(dx, dxRef, 1e-6, 1e-9, $"GELU {form} Vector256 backward, length {len}");
        }
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_MultiThreadedLength_MatchesReference(GeluApproximation form)
    {
        int len = 2 * Elementwise.MinPerThread + 13;
        float[] x = ActivationTorch.Spread(len, 7), dy = Compare.Randn(len, 8);
        var y = new float[len];
        var yRef = new float[len];
        Gelu.Forward(x, y, form);
        Gelu.ForwardReference(x, yRef, form);
        Compare.Close(y, yRef, 1e-6, 1e-9, $"GELU {form} forward, {len} elements");
        var dx = new float[len];
        var dxRef = new float[len];
        Gelu.Backward(dy, x, dx, form);
        Gelu.BackwardReference(dy, x, dxRef, form);
        Compare.Close(dx, dxRef, 1e-6, 1e-9, $"GELU {form} backward, {len} elements");
    }

    [Fact]
    public void Gelu_InPlace_EqualsOutOfPlace()
    {
        float[] x = ActivationTorch.Spread(77, 1);
        var y = new float[77];
        Gelu.Forward(x, y);
        Gelu.Forward(x, x);
        Assert.Equal(y, x);
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_GradientVsFiniteDifferences_Match(GeluApproximation form)
    {
        const int n = 64;
        float[] x = ActivationTorch.Spread(n, 11), g = Compare.Randn(n, 12);
        var y = new float[n];
        double Loss()
        {
            Gelu.Forward(x, y, form);
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                s += (double)y[i] * g[i];
            }

            return s;
        }

        double[] numeric = GradientChecker.Numerical(x, Loss);
        var dx = new float[n];
        Gelu.Backward(g, x, dx, form);
        Compare.Close(dx, numeric, 1e-4, 1e-5, $"GELU {form} dx vs central differences");
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_VsTorch_ForwardAndGradientMatch(GeluApproximation form)
    {
        const int n = 1000;
        float[] x = ActivationTorch.Spread(n, 21), g = Compare.Randn(n, 22);
        var (yT, gradT) = ActivationTorch.Run(t => ActivationTorch.Gelu(t[0], form == GeluApproximation.None), g, (x, new long[] { n }));
        var y = new float[n];
        var dx = new float[n];
        Gelu.Forward(x, y, form);
        Gelu.Backward(g, x, dx, form);
        Compare.Close(y, yT, 1e-6, 1e-9, $"GELU {form} forward vs torch");
        Compare.Close(dx, gradT[0], 1e-6, 1e-9, $"GELU {form} dx vs torch");
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Gelu_SpecialValues_NaNPropagatesInfinityGivesLimits(GeluApproximation form)
    {
        float[] x = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -100f, -20f, -8f, -1e-30f, 0f, -0f, 1e-30f, 8f, 20f, 100f, 1e30f, -1e30f };
        var y = new float[x.Length];
        var dx = new float[x.Length];
        float[] ones = Enumerable.Repeat(1f, x.Length).ToArray();
        Gelu.Forward(x, y, form);
        Gelu.Backward(ones, x, dx, form);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(dx[0]), "NaN must propagate to y and dx");
        Assert.Equal(float.PositiveInfinity, y[1]);
        Assert.Equal(0f, y[2]);
        Assert.Equal(1f, dx[1]);
        Assert.Equal(0f, dx[2]);

        // Every finite value agrees with libtorch (which we match except at ±∞, where torch gives NaN).
        float[] finite = x[3..];
        float[] yT = ActivationTorch.Forward(t => ActivationTorch.Gelu(t, form == GeluApproximation.None), finite);
        Compare.Close(y.AsSpan(3), yT, 1e-6, 1e-9, $"GELU {form} special finite values vs torch");
        float[] yNaN = ActivationTorch.Forward(t => ActivationTorch.Gelu(t, form == GeluApproximation.None), new[] { float.NaN });
        Assert.True(float.IsNaN(yNaN[0]), "torch gives NaN for NaN as well");
        var dxRef = new float[x.Length];
        Gelu.BackwardReference(ones, x, dxRef, form);
        Compare.Close(dx.AsSpan(1), dxRef.AsSpan(1), 1e-6, 1e-9, $"GELU {form} special values slope vs reference");
    }

    [Fact]
    public void Gelu_Minimum_IsMinus0170AtMinus0752()
    {
        (double xMin, double yMin) = GridMinimum((x, y) => Gelu.Forward(x, y), (dy, x, dx) => Gelu.Backward(dy, x, dx), -3, 0);
        Assert.Equal(-0.170, yMin, 3);
        Assert.Equal(-0.752, xMin, 3);
    }

    [Fact]
    public void Gelu_TanhApproximation_DiffersFromExactByAtMost4_7e4()
    {
        const int n = 200_001;
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = -10f + 20f * i / (n - 1);
        }

        var exact = new float[n];
        var approx = new float[n];
        Gelu.Forward(x, exact, GeluApproximation.None);
        Gelu.Forward(x, approx, GeluApproximation.Tanh);
        double max = 0;
        for (int i = 0; i < n; i++)
        {
            max = Math.Max(max, Math.Abs((double)exact[i] - approx[i]));
        }

        Assert.InRange(max, 4.65e-4, 4.75e-4);
    }

    [Fact]
    public void Gelu_BadInput_ThrowsBeforeWriting()
    {
        float[] x = new float[8], y = Enumerable.Repeat(7f, 7).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Gelu.Forward(x, y));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("7", e.Message, StringComparison.Ordinal);
        Assert.Contains("8", e.Message, StringComparison.Ordinal);
        Assert.All(y, v => Assert.Equal(7f, v));

        var dx = new float[8];
        e = Assert.Throws<ArgumentException>(() => Gelu.Backward(new float[9], x, dx));
        Assert.Equal("dy", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gelu.Backward(new float[8], x, new float[5]));
        Assert.Equal("dx", e.ParamName);

        float[] buf = new float[16];
        e = Assert.Throws<ArgumentException>(() => Gelu.Forward(buf.AsSpan(0, 8), buf.AsSpan(1, 8)));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Gelu.Backward(buf.AsSpan(0, 8), x, buf.AsSpan(0, 8)));
        Assert.Equal("dx", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gelu.Forward(x, new float[8], (GeluApproximation)7));
    }

    /// <summary>
    /// Minimum of f on [lo, hi], located where the kernel's own slope f′ (Backward with dy = 1) changes sign on a grid
    /// of step 1e-5: near a minimum f is flat, so comparing rounded float values of f would pin x only to ~1e-3,
    /// while f′ crosses zero with a nonzero slope.
    /// </summary>
    internal static (double X, double Y) GridMinimum(Action<float[], float[]> forward, Action<float[], float[], float[]> backward, double lo, double hi)
    {
        int n = (int)Math.Round((hi - lo) / 1e-5) + 1;
        var x = new float[n];
        var slope = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(lo + i * 1e-5);
        }

        backward(Enumerable.Repeat(1f, n).ToArray(), x, slope);
        int k = Array.FindIndex(slope, 1, s => s >= 0);
        Assert.True(k > 0 && slope[k - 1] < 0, "the slope must change sign inside the interval");
        double xMin = x[k - 1] + (x[k] - x[k - 1]) * (-slope[k - 1]) / (slope[k] - slope[k - 1]);
        var y = new float[1];
        forward(new[] { (float)xMin }, y);
        return (xMin, y[0]);
    }
}
