using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// The transcendental functions the activation kernels share, in two forms:
/// <list type="bullet">
/// <item>vectorised float (<see cref="Vector512{T}"/> and <see cref="Vector256{T}"/>, identical algorithms) for the
/// fast paths: <c>Exp</c>, <c>Sigmoid</c>, <c>Tanh</c>, <c>NormalCdf</c> (Φ, the GELU gate);</item>
/// <item>scalar double (<see cref="Erf"/>, <see cref="Erfc"/>, <see cref="NormalCdf(double)"/>) for the reference
/// paths, from textbook series so a reader can check them.</item>
/// </list>
/// Accuracy (measured by the tests against double precision over dense grids): Exp ≤ 2 ulp, Sigmoid ≤ 3 ulp; Tanh
/// ≤ 3 ulp including near 0 (it goes through expm1, so tanh(1e-5) keeps all its digits); Φ(x) relative error ≤ 5e-7
/// for |x| ≤ 5 and ≤ 1e-6 for |x| ≤ 9 on both sides: the left tail keeps its relative accuracy because Φ(−|x|) is
/// computed directly as e^(−x²/2)·R(|x|), never as 1 − Φ(|x|), and because the exponent −x²/2 is carried as an exact
/// head + tail.
/// NaN in → NaN out; ±∞ follow the limits (Exp(−∞) = 0, Exp(+∞) = +∞, Tanh(±∞) = ±1, Φ(−∞) = 0, Φ(+∞) = 1).
/// </summary>
internal static class ActivationMath
{
    // Exp: x = n·ln2 + r with |r| ≤ ln2/2, e^x = 2^n·e^r. ln2 is split in two (Cody–Waite) so n·Ln2Hi is exact.
    private const float Log2E = 1.44269504f;
    private const float Ln2Hi = 0.693359375f;        // 355/512: 9 significant bits, n·Ln2Hi exact for |n| < 2^15
    private const float Ln2Lo = -2.12194440e-4f;     // ln2 − Ln2Hi
    private const float Shifter = 12582912f;         // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
    private const int ShifterBits = 0x4B400000;

    // e^89 overflows float and e^−104 rounds to 0, so clamping there keeps the limits and keeps 2^n representable
    // in two factors (n/2 each) for the gradual underflow in between.
    private const float ExpMax = 89f;
    private const float ExpMin = -104f;

    // Taylor coefficients of e^r to r^7: the truncation r^8/8! ≤ 5e-9 relative on |r| ≤ ln2/2, below float rounding.
    private const float C2 = 0.5f, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720, C7 = 1f / 5040;

    // e^r ≈ 1 + r + r²(E2 + E3·r + E4·r² + E5·r³ + E6·r⁴) on |r| ≤ ln2/2, fitted for the smallest largest relative
    // error (3.1e-9; Kernels/Fits/exp_reduced_degree6.py), for Φ and φ's exponential (see ExpOfReducedFitted).
    private const float E2 = 4.999999404e-01f, E3 = 1.666652113e-01f, E4 = 4.166838899e-02f, E5 = 8.368712850e-03f, E6 = 1.381458482e-03f;

    // Tanh: beyond |x| = 10, 1 − tanh(x) < 2^−25, so tanh rounds to ±1; clamping there also maps ±∞ to ±1.
    private const float TanhClamp = -20f;

    // R(a) = Φ(−a)·e^(a²/2) ≈ (R0 + R1·a + … + R4·a⁴)/(1 + S1·a + … + S5·a⁵) on [0, 20], see GaussianTailRatio.
    private const float R0 = 5.0000000501e-01f, R1 = 4.4685492581e-01f, R2 = 1.8965073433e-01f, R3 = 4.2815660881e-02f, R4 = 4.4452425019e-03f;
    private const float S1 = 1.6915951008e+00f, S2 = 1.2289915452e+00f, S3 = 4.8642102221e-01f, S4 = 1.0732691559e-01f, S5 = 1.1142508001e-02f;

    // e^(−x²/2) underflows float beyond |x| = 14.4; clamping x at ±20 (NaN passes) keeps x² finite, so ±∞ give
    // Φ = 0 or 1 and φ = 0 instead of ∞ − ∞ in the exact tail of x².
    internal const float GaussClamp = 20f;

    /// <summary>1/√(2π), the peak of the standard normal density φ.</summary>
    internal const float InvSqrt2Pi = 0.398942280f;

    // ---------------------------------------------------------------- Vector512

    /// <summary>e^x per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        if (Avx512F.IsSupported)
        {
            // vmaxps/vminps return their second operand when either is NaN, so x second lets NaN through.
            return Exp512Reduced(Avx512F.Min(Vector512.Create(ExpMax), Avx512F.Max(Vector512.Create(ExpMin), x)));
        }

        // Comparisons are false for NaN, so these clamps let NaN through to the arithmetic below.
        x = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ExpMax)), Vector512.Create(ExpMax), x);
        x = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpMin)), Vector512.Create(ExpMin), x);
        Vector512<float> k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<float> n = k - Vector512.Create(Shifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> p = ExpOfReduced(r);
        Vector512<int> ni = k.AsInt32() - Vector512.Create(ShifterBits);
        Vector512<int> n1 = Vector512.ShiftRightArithmetic(ni, 1);
        Vector512<int> n2 = ni - n1;
        Vector512<float> s1 = Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle();
        Vector512<float> s2 = Vector512.ShiftLeft(n2 + Vector512.Create(127), 23).AsSingle();
        return p * s1 * s2;
    }

    /// <summary>
    /// e^(hi + lo) per lane for a head <paramref name="hi"/> and a small tail <paramref name="lo"/>, without rounding
    /// hi + lo to float first: lo joins after the range reduction, where the reduced argument is small. Φ and φ need
    /// this for e^(−x²/2): x² rounded to float would cost ~x²·2⁻²⁴ of relative accuracy (2e-6 at x = 5).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> hi, Vector512<float> lo)
    {
        if (Avx512F.IsSupported)
        {
            // Callers pass a finite head (|x| ≤ GaussClamp gives hi ≥ −200); vscalefps takes any n, so no clamp.
            return Exp512Reduced(hi, lo);
        }

        // Callers keep |hi| below ExpMin's magnitude plus a few units (|x| ≤ GaussClamp gives hi ≥ −200), so only
        // the lower clamp matters; it also maps the tail to exactly 0.
        Vector512<float> low = Vector512.LessThan(hi, Vector512.Create(ExpMin));
        hi = Vector512.ConditionalSelect(low, Vector512.Create(ExpMin), hi);
        lo = Vector512.ConditionalSelect(low, Vector512<float>.Zero, lo);
        // n from the head alone (the tail moves the reduced argument by far less than its range), the reduction from
        // the exact head, the tail added after it.
        Vector512<float> k = Vector512.FusedMultiplyAdd(hi, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<float> n = k - Vector512.Create(Shifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), hi);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r) + lo;
        Vector512<float> p = ExpOfReducedFitted(r);
        Vector512<int> ni = k.AsInt32() - Vector512.Create(ShifterBits);
        Vector512<int> n1 = Vector512.ShiftRightArithmetic(ni, 1);
        Vector512<int> n2 = ni - n1;
        Vector512<float> s1 = Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle();
        Vector512<float> s2 = Vector512.ShiftLeft(n2 + Vector512.Create(127), 23).AsSingle();
        return p * s1 * s2;
    }

    // e^r on the reduced range |r| ≤ ln2/2: the Taylor polynomial to r^7, in Horner form.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpOfReduced(Vector512<float> r)
    {
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C7), r, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
    }

    // e^r for Φ and φ: the fitted degree-6 polynomial (E2..E6), as 1 + r + r²·(p23 + r²·(p45 + r²·E6)). Six
    // instructions on the FMA pipes, four deep; the Taylor polynomial to r^7 in Estrin's form took eight, of the ~27
    // that exact GELU's forward spends there per vector. Exact GELU forward 4–9 % faster (benchmark rows, two runs of
    // each build). The 1 is added last, so 1 + r is not rounded early. In float it is within 6.8e-8 of e^r (the Taylor
    // form: 8.4e-8); x·Φ(x)'s worst relative error stays 3.5e-7 on [−5, 5] and is 3.8e-7 on [−9, 9] (was 4.1e-7).
    // Exp, Sigmoid and Tanh keep the Taylor polynomial in Horner's form and their bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ExpOfReducedFitted(Vector512<float> r)
    {
        Vector512<float> r2 = r * r;
        Vector512<float> p23 = Vector512.FusedMultiplyAdd(Vector512.Create(E3), r, Vector512.Create(E2));
        Vector512<float> p45 = Vector512.FusedMultiplyAdd(Vector512.Create(E5), r, Vector512.Create(E4));
        Vector512<float> t = Vector512.FusedMultiplyAdd(Vector512.Create(E6), r2, p45);
        t = Vector512.FusedMultiplyAdd(t, r2, p23);
        return Vector512.FusedMultiplyAdd(t, r2, r) + Vector512<float>.One;
    }

    // AVX-512 form of the reduction: n from the shifter trick, 2^n applied by vscalefps, which overflows to ∞ and
    // underflows gradually to 0 by itself (no split scaling, no integer exponent arithmetic).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp512Reduced(Vector512<float> x)
    {
        Vector512<float> k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<float> n = k - Vector512.Create(Shifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        return Avx512F.Scale(ExpOfReduced(r), n);
    }

    // The same with the argument as a head and a small tail, which joins after the reduction; n comes from the head
    // alone (|lo| ≤ 2⁻²⁴·|hi| moves r by at most ~1e-5 beyond ln2/2, where the polynomial is still exact to float).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp512Reduced(Vector512<float> hi, Vector512<float> lo)
    {
        Vector512<float> k = Vector512.FusedMultiplyAdd(hi, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<float> n = k - Vector512.Create(Shifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), hi);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r) + lo;
        return Avx512F.Scale(ExpOfReducedFitted(r), n);
    }

    /// <summary>e^(−x²/2) per lane for |x| ≤ GaussClamp, with x² carried as an exact head + tail (see <see cref="Exp(Vector512{float}, Vector512{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpMinusHalfSquare(Vector512<float> x)
    {
        // −x/2 is exact, so hi = round(−x²/2) and lo = −x²/2 − hi (exact, by the FMA) in three instructions.
        Vector512<float> m = x * Vector512.Create(-0.5f);
        Vector512<float> hi = m * x;
        return Exp(hi, Vector512.FusedMultiplyAdd(m, x, -hi));
    }

    /// <summary>σ(x) = 1/(1 + e^−x) per lane; no cancellation, so relative accuracy holds in both tails.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    /// <summary>
    /// σ(x) = 1/(1 + e^m) per lane from m = −x, for callers whose argument is bounded, |m| ≤ 10⁵ (GELU-tanh's is, after
    /// its clamp). With AVX-512 the exponential then needs no clamp: vscalefps saturates 2ⁿ to 0 or ∞ by itself, and the
    /// reduced argument stays within 0.01 of exact, so e^m is exact to float wherever it is neither 0 nor ∞ — the same
    /// values as <see cref="Sigmoid(Vector512{float})"/> of −m, two instructions fewer, and the caller can fold the
    /// negation into its own constants.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> SigmoidOfNegatedBounded(Vector512<float> m) => Avx512F.IsSupported
        ? Vector512<float>.One / (Vector512<float>.One + Exp512Reduced(m))
        : Vector512<float>.One / (Vector512<float>.One + Exp(m));

    /// <summary>σ(x) per lane, and 1 − σ(x) in <paramref name="complement"/> without the cancellation of 1 − σ where σ ≈ 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid(Vector512<float> x, out Vector512<float> complement)
    {
        Vector512<float> e = Exp(-x);
        Vector512<float> s = Vector512<float>.One / (Vector512<float>.One + e);
        // 1 − σ(x) = e^−x·σ(x); for x < 0 (σ ≤ ½) the subtraction is exact enough and avoids ∞·0 when e^−x overflows.
        complement = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.One - s, e * s);
        return s;
    }

    /// <summary>tanh(x) per lane, as −expm1(−2|x|)/(expm1(−2|x|) + 2) with the sign of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<float> signMask = Vector512.Create(-0f);
        Vector512<float> u = Vector512.Abs(x) * Vector512.Create(-2f);
        u = Vector512.ConditionalSelect(Vector512.LessThan(u, Vector512.Create(TanhClamp)), Vector512.Create(TanhClamp), u);
        // expm1(u) = 2^n·(e^r − 1) + (2^n − 1): the polynomial gives e^r − 1 directly, so small |x| loses nothing.
        Vector512<float> k = Vector512.FusedMultiplyAdd(u, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<float> n = k - Vector512.Create(Shifter);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), u);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C7), r, Vector512.Create(C6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        Vector512<float> q = Vector512.FusedMultiplyAdd(p, r * r, r);
        Vector512<float> scale = Vector512.ShiftLeft(k.AsInt32() - Vector512.Create(ShifterBits - 127), 23).AsSingle();
        Vector512<float> em = Vector512.FusedMultiplyAdd(q, scale, scale - Vector512<float>.One);
        Vector512<float> t = -em / (em + Vector512.Create(2f));
        // Take every bit but the sign from t (which is ≥ 0 or −0) and the sign from x.
        return Vector512.ConditionalSelect(signMask, x, t);
    }

    /// <summary>Φ(x), the standard normal CDF, per lane (see the class remarks for accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> NormalCdf(Vector512<float> x) => NormalCdfClamped(ClampGauss(x));

    /// <summary>
    /// Φ(xc) for an input already clamped to ±GaussClamp (Φ is exactly 0 or 1 in float beyond): the left tail
    /// Φ(−|x|) = e^(−x²/2)·R(|x|) (see <see cref="GaussianTailRatio(Vector512{float})"/>), which has no cancellation,
    /// and Φ(|x|) = 1 − Φ(−|x|), which is ≥ ½.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> NormalCdfClamped(Vector512<float> xc) => NormalCdfClamped(xc, out _);

    /// <summary>Φ(xc) as above, and the factor e^(−x²/2) it was built from (GELU's slope takes φ from it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> NormalCdfClamped(Vector512<float> xc, out Vector512<float> gauss)
    {
        gauss = ExpMinusHalfSquare(xc);
        Vector512<float> tail = gauss * GaussianTailRatio(Vector512.Abs(xc));
        return Vector512.ConditionalSelect(Vector512.LessThan(xc, Vector512<float>.Zero), tail, Vector512<float>.One - tail);
    }

    /// <summary>
    /// R(a) = Φ(−a)·e^(a²/2) per lane for 0 ≤ a ≤ GaussClamp, so that Φ(−a) = e^(−a²/2)·R(a) shares its exponential
    /// with φ. R falls smoothly from ½ to ~1/(a√(2π)); a rational P₄(a)/Q₅(a) with positive coefficients (no cancellation)
    /// fits it within 1.0e-8 relative on [0, 20] (Kernels/Fits/gaussian_tail_ratio.py: Loeb/Lawson-weighted least squares
    /// against mpmath); evaluated in float it is within ~3e-7.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> GaussianTailRatio(Vector512<float> a)
    {
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(R4), a, Vector512.Create(R3));
        p = Vector512.FusedMultiplyAdd(p, a, Vector512.Create(R2));
        p = Vector512.FusedMultiplyAdd(p, a, Vector512.Create(R1));
        p = Vector512.FusedMultiplyAdd(p, a, Vector512.Create(R0));
        Vector512<float> q = Vector512.FusedMultiplyAdd(Vector512.Create(S5), a, Vector512.Create(S4));
        q = Vector512.FusedMultiplyAdd(q, a, Vector512.Create(S3));
        q = Vector512.FusedMultiplyAdd(q, a, Vector512.Create(S2));
        q = Vector512.FusedMultiplyAdd(q, a, Vector512.Create(S1));
        q = Vector512.FusedMultiplyAdd(q, a, Vector512<float>.One);
        // A true divide: on Zen 5 it beats vrcp14ps plus a Newton step (exact GELU forward ~13 % faster in one
        // process) and it is correctly rounded.
        return p / q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ClampGauss(Vector512<float> x)
    {
        if (Avx512F.IsSupported)
        {
            return Avx512F.Min(Vector512.Create(GaussClamp), Avx512F.Max(Vector512.Create(-GaussClamp), x));
        }

        x = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(GaussClamp)), Vector512.Create(GaussClamp), x);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-GaussClamp)), Vector512.Create(-GaussClamp), x);
    }

    // ---------------------------------------------------------------- Vector256 (same algorithms, for AVX2 machines)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpOfReduced(Vector256<float> r)
    {
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(C7), r, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        return Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ExpOfReducedFitted(Vector256<float> r)
    {
        Vector256<float> r2 = r * r;
        Vector256<float> p23 = Vector256.FusedMultiplyAdd(Vector256.Create(E3), r, Vector256.Create(E2));
        Vector256<float> p45 = Vector256.FusedMultiplyAdd(Vector256.Create(E5), r, Vector256.Create(E4));
        Vector256<float> t = Vector256.FusedMultiplyAdd(Vector256.Create(E6), r2, p45);
        t = Vector256.FusedMultiplyAdd(t, r2, p23);
        return Vector256.FusedMultiplyAdd(t, r2, r) + Vector256<float>.One;
    }

    /// <summary>e^x per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpMax)), Vector256.Create(ExpMax), x);
        x = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpMin)), Vector256.Create(ExpMin), x);
        Vector256<float> k = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(Shifter));
        Vector256<float> n = k - Vector256.Create(Shifter);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> p = ExpOfReduced(r);
        Vector256<int> ni = k.AsInt32() - Vector256.Create(ShifterBits);
        Vector256<int> n1 = Vector256.ShiftRightArithmetic(ni, 1);
        Vector256<int> n2 = ni - n1;
        Vector256<float> s1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        Vector256<float> s2 = Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        return p * s1 * s2;
    }

    /// <summary>
    /// e^(hi + lo) per lane for a head <paramref name="hi"/> and a small tail <paramref name="lo"/>, without rounding
    /// hi + lo to float first: lo joins after the range reduction, where the reduced argument is small. Φ and φ need
    /// this for e^(−x²/2): x² rounded to float would cost ~x²·2⁻²⁴ of relative accuracy (2e-6 at x = 5).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> hi, Vector256<float> lo)
    {
        // Callers keep |hi| below ExpMin's magnitude plus a few units (|x| ≤ GaussClamp gives hi ≥ −200), so only
        // the lower clamp matters; it also maps the tail to exactly 0.
        Vector256<float> low = Vector256.LessThan(hi, Vector256.Create(ExpMin));
        hi = Vector256.ConditionalSelect(low, Vector256.Create(ExpMin), hi);
        lo = Vector256.ConditionalSelect(low, Vector256<float>.Zero, lo);
        // n from the head alone, the reduction from the exact head, the tail added after it.
        Vector256<float> k = Vector256.FusedMultiplyAdd(hi, Vector256.Create(Log2E), Vector256.Create(Shifter));
        Vector256<float> n = k - Vector256.Create(Shifter);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), hi);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r) + lo;
        Vector256<float> p = ExpOfReducedFitted(r);
        Vector256<int> ni = k.AsInt32() - Vector256.Create(ShifterBits);
        Vector256<int> n1 = Vector256.ShiftRightArithmetic(ni, 1);
        Vector256<int> n2 = ni - n1;
        Vector256<float> s1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        Vector256<float> s2 = Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        return p * s1 * s2;
    }

    /// <summary>e^(−x²/2) per lane for |x| ≤ GaussClamp, with x² carried as an exact head + tail (see <see cref="Exp(Vector256{float}, Vector256{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ExpMinusHalfSquare(Vector256<float> x)
    {
        Vector256<float> m = x * Vector256.Create(-0.5f);
        Vector256<float> hi = m * x;
        return Exp(hi, Vector256.FusedMultiplyAdd(m, x, -hi));
    }

    /// <summary>σ(x) = 1/(1 + e^−x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>σ(x) = 1/(1 + e^m) from m = −x (the Vector256 exponential keeps its clamp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> SigmoidOfNegatedBounded(Vector256<float> m) => Vector256<float>.One / (Vector256<float>.One + Exp(m));

    /// <summary>σ(x) per lane, and 1 − σ(x) in <paramref name="complement"/> without the cancellation of 1 − σ where σ ≈ 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid(Vector256<float> x, out Vector256<float> complement)
    {
        Vector256<float> e = Exp(-x);
        Vector256<float> s = Vector256<float>.One / (Vector256<float>.One + e);
        // 1 − σ(x) = e^−x·σ(x); for x < 0 (σ ≤ ½) the subtraction is exact enough and avoids ∞·0 when e^−x overflows.
        complement = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.One - s, e * s);
        return s;
    }

    /// <summary>tanh(x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> signMask = Vector256.Create(-0f);
        Vector256<float> u = Vector256.Abs(x) * Vector256.Create(-2f);
        u = Vector256.ConditionalSelect(Vector256.LessThan(u, Vector256.Create(TanhClamp)), Vector256.Create(TanhClamp), u);
        Vector256<float> k = Vector256.FusedMultiplyAdd(u, Vector256.Create(Log2E), Vector256.Create(Shifter));
        Vector256<float> n = k - Vector256.Create(Shifter);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), u);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(C7), r, Vector256.Create(C6));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        Vector256<float> q = Vector256.FusedMultiplyAdd(p, r * r, r);
        Vector256<float> scale = Vector256.ShiftLeft(k.AsInt32() - Vector256.Create(ShifterBits - 127), 23).AsSingle();
        Vector256<float> em = Vector256.FusedMultiplyAdd(q, scale, scale - Vector256<float>.One);
        Vector256<float> t = -em / (em + Vector256.Create(2f));
        return Vector256.ConditionalSelect(signMask, x, t);
    }

    /// <summary>Φ(x) per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> NormalCdf(Vector256<float> x) => NormalCdfClamped(ClampGauss(x));

    /// <summary>Φ(xc) for an input already clamped to ±GaussClamp (see the Vector512 overload).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> NormalCdfClamped(Vector256<float> xc) => NormalCdfClamped(xc, out _);

    /// <summary>Φ(xc) as above, and the factor e^(−x²/2) it was built from (GELU's slope takes φ from it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> NormalCdfClamped(Vector256<float> xc, out Vector256<float> gauss)
    {
        gauss = ExpMinusHalfSquare(xc);
        Vector256<float> tail = gauss * GaussianTailRatio(Vector256.Abs(xc));
        return Vector256.ConditionalSelect(Vector256.LessThan(xc, Vector256<float>.Zero), tail, Vector256<float>.One - tail);
    }

    /// <summary>R(a) = Φ(−a)·e^(a²/2) per lane (see the Vector512 overload).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> GaussianTailRatio(Vector256<float> a)
    {
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(R4), a, Vector256.Create(R3));
        p = Vector256.FusedMultiplyAdd(p, a, Vector256.Create(R2));
        p = Vector256.FusedMultiplyAdd(p, a, Vector256.Create(R1));
        p = Vector256.FusedMultiplyAdd(p, a, Vector256.Create(R0));
        Vector256<float> q = Vector256.FusedMultiplyAdd(Vector256.Create(S5), a, Vector256.Create(S4));
        q = Vector256.FusedMultiplyAdd(q, a, Vector256.Create(S3));
        q = Vector256.FusedMultiplyAdd(q, a, Vector256.Create(S2));
        q = Vector256.FusedMultiplyAdd(q, a, Vector256.Create(S1));
        q = Vector256.FusedMultiplyAdd(q, a, Vector256<float>.One);
        return p / q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ClampGauss(Vector256<float> x)
    {
        x = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(GaussClamp)), Vector256.Create(GaussClamp), x);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-GaussClamp)), Vector256.Create(-GaussClamp), x);
    }

    // ---------------------------------------------------------------- float → double accumulation

    /// <summary>acc[o..o+16) += (double)v: row sums (dγ, dβ, dbias) are kept in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AccumulateWidened(ref double acc, nuint o, Vector512<float> v)
    {
        Vector512<double> lo, hi;
        if (Avx512F.IsSupported)
        {
            // Vector512.Widen is not an intrinsic here and costs ~100 cycles; vcvtps2pd is one instruction per half.
            lo = Avx512F.ConvertToVector512Double(v.GetLower());
            hi = Avx512F.ConvertToVector512Double(v.GetUpper());
        }
        else
        {
            (lo, hi) = Vector512.Widen(v);
        }

        (Vector512.LoadUnsafe(ref acc, o) + lo).StoreUnsafe(ref acc, o);
        (Vector512.LoadUnsafe(ref acc, o + 8) + hi).StoreUnsafe(ref acc, o + 8);
    }

    /// <summary>acc[o..o+8) += (double)v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AccumulateWidened(ref double acc, nuint o, Vector256<float> v)
    {
        Vector256<double> lo, hi;
        if (Avx.IsSupported)
        {
            lo = Avx.ConvertToVector256Double(v.GetLower());
            hi = Avx.ConvertToVector256Double(v.GetUpper());
        }
        else
        {
            (lo, hi) = Vector256.Widen(v);
        }

        (Vector256.LoadUnsafe(ref acc, o) + lo).StoreUnsafe(ref acc, o);
        (Vector256.LoadUnsafe(ref acc, o + 4) + hi).StoreUnsafe(ref acc, o + 4);
    }

    // ---------------------------------------------------------------- scalar double, for the references
    // One implementation, public in CourseLib.Checks.ReferenceMath so the exercises and lessons use the same.

    internal static double Erf(double x) => Checks.ReferenceMath.Erf(x);

    internal static double Erfc(double x) => Checks.ReferenceMath.Erfc(x);

    internal static double NormalCdf(double x) => Checks.ReferenceMath.NormalCdf(x);

    internal static double NormalPdf(double x) => Checks.ReferenceMath.NormalPdf(x);
}
