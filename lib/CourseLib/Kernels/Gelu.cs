namespace CourseLib.Kernels;

/// <summary>
/// GELU (Hendrycks &amp; Gimpel 2016), element-wise on any shape (x: [L], y: [L]); in a transformer FFN, x: [N, 4C].
/// <code>
/// exact (None):  y = x·Φ(x) = ½x(1 + erf(x/√2))          dx += dy·(Φ(x) + x·φ(x)),   φ(x) = e^(−x²/2)/√(2π)
/// Tanh:          y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³)
///                dx += dy·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²))
/// </code>
/// Facts the tests check: the minimum is ≈ −0.1700 at x ≈ −0.7518; the two forms differ by at most ≈ 4.7e-4.
/// <para>
/// Fast path: Φ comes from one exponential and a rational, Φ(−|x|) = e^(−x²/2)·R(|x|) (ActivationMath.GaussianTailRatio,
/// a P₄/Q₅ fit within 1e-8; ≤ 5e-7 relative error in float out to 13σ, the exponent −x²/2 carried as an exact head +
/// tail), and Φ(|x|) = 1 − Φ(−|x|), so the left tail keeps relative accuracy (GELU(−5) ≈ −1.43e-6 to ~6 digits,
/// where torch, computing 1 + erf, keeps ~1). The backward pass takes φ = e^(−x²/2)/√(2π) from the same exponential,
/// so forward and backward see the same Φ bit for bit. The tanh form is computed as x·σ(2u), the same function without
/// the cancellation in 1 + tanh u. Tests assert max|diff|/max|ref| ≤ 1e-6 against the double-precision reference and
/// against libtorch, for y and dx.
/// </para>
/// <para>
/// Speed (one thread, CourseLib.Benchmarks, results/zen5-1-thread-cpu-time.md): on Zen 5 the exact form runs at
/// ~22–25 GB/s, 0.89–1.11× libtorch's forward time where the data sits in cache (four runs) and 0.37–0.63× for forward +
/// backward — libtorch's float erf is Abramowitz–Stegun 7.1.26, about as many operations as our Φ but 1.5e-7 absolute
/// error and no accuracy left in the tail.
/// (An earlier erfc-based Φ, Numerical Recipes' erfcc, took a ~35-deep chain of dependent operations and ran at
/// ~13 GB/s; the rational's numerator and denominator are two short independent chains beside the exponential.)
/// The tanh form runs at ~30 GB/s. Tiny tensors ([8, 64]) take ~0.2 µs forward on Zen 5 (~0.6 µs on Zen 4), 17–47× less
/// than one TorchSharp call.
/// </para>
/// <para>
/// Special values: NaN → NaN. At ±∞ we return the limits, GELU(+∞) = +∞, GELU(−∞) = 0, slope 1 and 0, where the
/// formulas (and libtorch 2.10, for value and slope) give NaN from ∞·0. Finite inputs of any size are fine
/// (GELU(−100) = −0).
/// </para>
/// </summary>
public static class Gelu
{
    /// <summary>y = GELU(x). <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input, any length.</param>
    /// <param name="y">Output, at least x.Length elements; the same buffer as x or disjoint from it.</param>
    /// <param name="approximate">Exact erf form (default, as PyTorch) or the tanh approximation.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximate = GeluApproximation.None)
    {
        Elementwise.ValidateForward(x, y);
        if (Exact(approximate))
        {
            Elementwise.Forward<GeluErfOp>(x, y);
        }
        else
        {
            Elementwise.Forward<GeluTanhOp>(x, y);
        }
    }

    /// <summary>dx += dy·GELU′(x).</summary>
    /// <param name="dy">Gradient of the loss with respect to y, x.Length elements.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Accumulated into (at least x.Length elements); must not overlap dy or x.</param>
    /// <param name="approximate">The form used in the forward pass.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, GeluApproximation approximate = GeluApproximation.None)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        if (Exact(approximate))
        {
            Elementwise.Backward<GeluErfOp>(dy, x, dx);
        }
        else
        {
            Elementwise.Backward<GeluTanhOp>(dy, x, dx);
        }
    }

    /// <summary>The plain loop, in double: y = x·Φ(x), or ½x(1 + tanh u).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, GeluApproximation approximate = GeluApproximation.None)
    {
        Elementwise.ValidateForward(x, y);
        bool exact = Exact(approximate);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = (float)(exact ? ValueExact(x[i]) : ValueTanh(x[i]));
        }
    }

    /// <summary>The plain loop, in double: dx += dy·GELU′(x).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, GeluApproximation approximate = GeluApproximation.None)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        bool exact = Exact(approximate);
        for (int i = 0; i < x.Length; i++)
        {
            dx[i] += (float)(dy[i] * (exact ? SlopeExact(x[i]) : SlopeTanh(x[i])));
        }
    }

    /// <summary>x·Φ(x) in double (shared with the fused and gated references).</summary>
    internal static double ValueExact(double x) => Limits.Value(x, x * ActivationMath.NormalCdf(x));

    /// <summary>Φ(x) + x·φ(x) in double.</summary>
    internal static double SlopeExact(double x) => Limits.Slope(x, ActivationMath.NormalCdf(x) + x * ActivationMath.NormalPdf(x));

    /// <summary>
    /// ½x(1 + tanh u) in double, written as x·σ(2u): the same number (½(1 + tanh u) = σ(2u)) without 1 + tanh u
    /// cancelling to 0 for u &lt; −19, where double runs out of digits long before the function reaches 0.
    /// </summary>
    internal static double ValueTanh(double x)
    {
        double u = Math.Sqrt(2 / Math.PI) * (x + GeluTanhOp.Cubic * x * x * x);
        return Limits.Value(x, x * Silu.Sigmoid(2 * u));
    }

    /// <summary>½(1 + tanh u) + ½x(1 − tanh²u)·u′ in double, with ½(1 + tanh u) = σ(2u), ½(1 − tanh²u) = 2σ(2u)σ(−2u).</summary>
    internal static double SlopeTanh(double x)
    {
        double c = Math.Sqrt(2 / Math.PI);
        double u = c * (x + GeluTanhOp.Cubic * x * x * x);
        double s = Silu.Sigmoid(2 * u), sc = Silu.Sigmoid(-2 * u);
        return Limits.Slope(x, s + x * 2 * s * sc * c * (1 + 3 * GeluTanhOp.Cubic * x * x));
    }

    internal static bool Exact(GeluApproximation approximate) => approximate switch
    {
        GeluApproximation.None => true,
        GeluApproximation.Tanh => false,
        _ => throw new ArgumentOutOfRangeException(nameof(approximate), approximate, $"approximate must be None or Tanh, got {approximate}."),
    };
}
