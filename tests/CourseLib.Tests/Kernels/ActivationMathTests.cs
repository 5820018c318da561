using System.Runtime.Intrinsics;
using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// The shared transcendental functions, measured against double precision on dense grids, in both vector widths.
/// The bounds asserted here are the ones ActivationMath documents.
/// </summary>
public class ActivationMathTests
{
    [Fact]
    public void SigmoidOfNegatedBounded_WithinItsBound_EqualsSigmoidBitForBit()
    {
        // The unclamped form GELU-tanh uses must give exactly Sigmoid(x) = 1/(1 + Exp(−x)) for |x| ≤ 10⁵: a dense
        // grid near 0, the saturation edges around ±89 and ±104, and far out.
        var xs = new List<float>();
        for (float x = -120f; x <= 120f; x += 0.0173f)
        {
            xs.Add(x);
        }

        for (float x = 120f; x <= 1e5f; x *= 1.01f)
        {
            xs.Add(x);
            xs.Add(-x);
        }

        xs.AddRange([0f, -0f, 88.7f, 89f, 89.5f, -103.3f, -104f, -104.5f, 1e5f, -1e5f]);
        while (xs.Count % 16 != 0)
        {
            xs.Add(1f);
        }

        for (int i = 0; i < xs.Count; i += 16)
        {
            var x512 = System.Runtime.Intrinsics.Vector512.Create(xs.GetRange(i, 16).ToArray());
            Assert.Equal(ActivationMath.Sigmoid(x512), ActivationMath.SigmoidOfNegatedBounded(-x512));
            var x256 = System.Runtime.Intrinsics.Vector256.Create(xs.GetRange(i, 8).ToArray());
            Assert.Equal(ActivationMath.Sigmoid(x256), ActivationMath.SigmoidOfNegatedBounded(-x256));
        }
    }

    [Fact]
    public void Erf_Reference_MatchesTabulatedValues()
    {
        // Abramowitz & Stegun table 7.1 / DLMF 7.2; erfc values from the same tables.
        Assert.Equal(0.5204998778130465, ActivationMath.Erf(0.5), 1e-15);
        Assert.Equal(0.8427007929497149, ActivationMath.Erf(1.0), 1e-15);
        Assert.Equal(0.9953222650189527, ActivationMath.Erf(2.0), 1e-15);
        Assert.Equal(-0.8427007929497149, ActivationMath.Erf(-1.0), 1e-15);
        Assert.Equal(2.209049699858544e-5, ActivationMath.Erfc(3.0), 1e-18);
        Assert.Equal(1.537459794428035e-12, ActivationMath.Erfc(5.0), 1e-24);
        Assert.Equal(0.5, ActivationMath.NormalCdf(0.0), 1e-16);
    }

    [Fact]
    public void Erfc_Reference_MatchesTorchFloat64OnAGrid()
    {
        // libtorch's float64 erfc is the C library's; our series + continued fraction must agree to ~1e-12 relative,
        // including the far right tail and across the 2.5 switch between the two methods.
        double[] z = Enumerable.Range(0, 1201).Select(i => -6 + i * 0.0125).ToArray();
        TorchRuntime.Initialize();
        using Tensor t = tensor(z, ScalarType.Float64);
        using Tensor e = special.erfc(t);
        double[] want = e.data<double>().ToArray();
        for (int i = 0; i < z.Length; i++)
        {
            double got = ActivationMath.Erfc(z[i]);
            Assert.True(Math.Abs(got - want[i]) <= 1e-12 * Math.Abs(want[i]), $"erfc({z[i]}) = {got:R}, torch {want[i]:R}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Exp_Vectorised_WithinTwoUlpOnFullRange(bool wide)
    {
        float[] x = Grid(-87f, 88f, 400_001);
        float[] y = Apply(x, wide, v => ActivationMath.Exp(v), v => ActivationMath.Exp(v));
        double worst = MaxUlp(x, y, Math.Exp);
        Assert.True(worst <= 2, $"Exp worst error {worst:F2} ulp");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tanh_Vectorised_WithinThreeUlpIncludingNearZero(bool wide)
    {
        float[] x = Grid(-10f, 10f, 400_001).Concat(Grid(-1e-3f, 1e-3f, 10_001)).Concat(new[] { 1e-20f, -3e-8f }).ToArray();
        float[] y = Apply(x, wide, v => ActivationMath.Tanh(v), v => ActivationMath.Tanh(v));
        double worst = MaxUlp(x, y, Math.Tanh);
        Assert.True(worst <= 3, $"Tanh worst error {worst:F2} ulp");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sigmoid_Vectorised_WithinThreeUlp(bool wide)
    {
        float[] x = Grid(-80f, 20f, 200_001);
        float[] y = Apply(x, wide, v => ActivationMath.Sigmoid(v), v => ActivationMath.Sigmoid(v));
        double worst = MaxUlp(x, y, v => 1 / (1 + Math.Exp(-v)));
        Assert.True(worst <= 3, $"Sigmoid worst error {worst:F2} ulp");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NormalCdf_Vectorised_RelativeErrorBelow5e7UpTo5SigmaAnd1e6UpTo9(bool wide)
    {
        Assert.True(WorstRelative(Grid(-5f, 5f, 200_001), wide) <= 5e-7, $"Φ worst relative error on [−5, 5]: {WorstRelative(Grid(-5f, 5f, 200_001), wide):E2}");
        Assert.True(WorstRelative(Grid(-9f, 9f, 200_001), wide) <= 1e-6, $"Φ worst relative error on [−9, 9]: {WorstRelative(Grid(-9f, 9f, 200_001), wide):E2}");

        static double WorstRelative(float[] x, bool wide)
        {
            float[] y = Apply(x, wide, v => ActivationMath.NormalCdf(v), v => ActivationMath.NormalCdf(v));
            double worst = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double want = ActivationMath.NormalCdf((double)x[i]);
                worst = Math.Max(worst, Math.Abs(y[i] - want) / want);
            }

            return worst;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GaussianTailRatio_TimesExp_GivesLeftTailRelativeErrorBelow5e7(bool wide)
    {
        // Φ(−a) = e^(−a²/2)·R(a), as GELU's slope computes it, over the whole range where Φ(−a) is a normal float.
        float[] a = Grid(0f, 13f, 200_001);
        float[] y = Apply(a, wide,
            v => ActivationMath.ExpMinusHalfSquare(v) * ActivationMath.GaussianTailRatio(v),
            v => ActivationMath.ExpMinusHalfSquare(v) * ActivationMath.GaussianTailRatio(v));
        double worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double want = ActivationMath.NormalCdf(-(double)a[i]);
            worst = Math.Max(worst, Math.Abs(y[i] - want) / want);
        }

        Assert.True(worst <= 5e-7, $"e^(−a²/2)·R(a) worst relative error against Φ(−a) on [0, 13]: {worst:E2}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SpecialValues_Vectorised_FollowLimitsAndPropagateNaN(bool wide)
    {
        float[] x = { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 89f, -104f, -100f };
        float[] e = Apply(x, wide, v => ActivationMath.Exp(v), v => ActivationMath.Exp(v));
        Assert.True(float.IsNaN(e[0]));
        Assert.Equal(new[] { 0f, float.PositiveInfinity, 1f, float.PositiveInfinity, 0f }, e[1..6]);
        Assert.True(e[6] > 0 && Math.Abs(e[6] - Math.Exp(-100)) <= 2e-45, $"e^-100 is subnormal {Math.Exp(-100):E3}, got {e[6]:E3}");

        float[] t = Apply(x, wide, v => ActivationMath.Tanh(v), v => ActivationMath.Tanh(v));
        Assert.True(float.IsNaN(t[0]));
        Assert.Equal(new[] { -1f, 1f }, t[1..3]);
        Assert.True(float.IsNegative(t[3]) && t[3] == 0, "tanh(−0) = −0");

        float[] p = Apply(x, wide, v => ActivationMath.NormalCdf(v), v => ActivationMath.NormalCdf(v));
        Assert.True(float.IsNaN(p[0]));
        Assert.Equal(new[] { 0f, 1f, 0.5f }, p[1..4]);
    }

    private static float[] Grid(float lo, float hi, int n) =>
        Enumerable.Range(0, n).Select(i => (float)(lo + (hi - lo) * (double)i / (n - 1))).ToArray();

    private static float[] Apply(float[] x, bool wide, Func<Vector512<float>, Vector512<float>> f512, Func<Vector256<float>, Vector256<float>> f256)
    {
        int w = wide ? 16 : 8;
        var padded = new float[(x.Length + w - 1) / w * w];
        x.CopyTo(padded, 0);
        var y = new float[padded.Length];
        for (int i = 0; i < padded.Length; i += w)
        {
            if (wide)
            {
                f512(Vector512.Create(padded, i)).CopyTo(y, i);
            }
            else
            {
                f256(Vector256.Create(padded, i)).CopyTo(y, i);
            }
        }

        return y[..x.Length];
    }

    /// <summary>Largest |got − exact| in units of the float spacing at the exact value.</summary>
    private static double MaxUlp(float[] x, float[] y, Func<double, double> exact)
    {
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double want = exact(x[i]);
            double ulp = Math.Max(float.Epsilon, MathF.BitIncrement(Math.Abs((float)want)) - Math.Abs((float)want));
            worst = Math.Max(worst, Math.Abs(y[i] - want) / ulp);
        }

        return worst;
    }
}
