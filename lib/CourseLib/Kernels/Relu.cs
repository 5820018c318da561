namespace CourseLib.Kernels;

/// <summary>
/// ReLU, element-wise on any shape (x: [L], y: [L]).
/// <code>
/// y = max(x, 0)
/// dx += dy · (x &gt; 0 ? 1 : 0)        // slope 0 at x = 0, as PyTorch
/// </code>
/// NaN propagates forward (ReLU(NaN) = NaN); backward passes dy where x is NaN, as torch's threshold_backward does
/// (it tests x ≤ 0, which is false for NaN). ReLU(+∞) = +∞, ReLU(−∞) = 0.
/// </summary>
public static class Relu
{
    /// <summary>y = max(x, 0). <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input, any length.</param>
    /// <param name="y">Output, at least x.Length elements; the same buffer as x or disjoint from it.</param>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        Elementwise.ValidateForward(x, y);
        Elementwise.Forward<ReluOp>(x, y);
    }

    /// <summary>dx += dy·ReLU′(x).</summary>
    /// <param name="dy">Gradient of the loss with respect to y, x.Length elements.</param>
    /// <param name="x">The forward input.</param>
    /// <param name="dx">Accumulated into (at least x.Length elements); must not overlap dy or x.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        Elementwise.Backward<ReluOp>(dy, x, dx);
    }

    /// <summary>The plain loop: y[i] = x[i] &gt; 0 ? x[i] : 0 (NaN kept).</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y)
    {
        Elementwise.ValidateForward(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i] < 0 ? 0f : x[i];
        }
    }

    /// <summary>The plain loop: dx[i] += x[i] ≤ 0 ? 0 : dy[i].</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        for (int i = 0; i < x.Length; i++)
        {
            dx[i] += x[i] <= 0 ? 0f : dy[i];
        }
    }
}
