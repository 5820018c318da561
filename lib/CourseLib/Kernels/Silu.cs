namespace CourseLib.Kernels;

/// <summary>
/// SiLU / Swish-1 (Elfwing et al. 2017; Ramachandran et al. 2017), element-wise on any shape (x: [L], y: [L]).
/// <code>
/// y = x · σ(x),            σ(x) = 1 / (1 + e^−x)
/// dx += dy · σ(x) · (1 + x · (1 − σ(x)))
/// </code>
/// Minimum ≈ −0.2785 at x ≈ −1.2785. NaN → NaN. At ±∞ the limits: SiLU(+∞) = +∞, SiLU(−∞) = 0, slopes 1 and 0
/// (the formula, and libtorch 2.10, give NaN for SiLU(−∞) and both slopes).
/// Fast path: σ from a vectorised e^x (ActivationMath), relative error ≤ ~3e-7.
/// </summary>
public static class Silu
{
    /// <summary>y = x·σ(x). <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input, any length.</param>
    /// <param name="y">Output, at least x.Length elements; the same buffer as x or disjoint from it.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Elementwise.ValidateForward(x, y);
        Elementwise.Forward<SiluOp>(x, y);
    }

    /// <summary>dx += dy·SiLU′(x).</summary>
    /// <param name="dy">Gradient of the loss with respect to y, x.Length elements.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Accumulated into (at least x.Length elements); must not overlap dy or x.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        Elementwise.Backward<SiluOp>(dy, x, dx);
    }

    /// <summary>The plain loop, in double: y = x / (1 + e^−x).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        Elementwise.ValidateForward(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            y[i] = (float)Limits.Value(v, v * Sigmoid(v));
        }
    }

    /// <summary>The plain loop, in double: dx += dy·σ(x)(1 + x(1 − σ(x))).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], s = Sigmoid(v), sc = Sigmoid(-v);   // sc = 1 − σ(x), without cancellation
            dx[i] += (float)(dy[i] * Limits.Slope(v, s * (1 + v * sc)));
        }
    }

    internal static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
