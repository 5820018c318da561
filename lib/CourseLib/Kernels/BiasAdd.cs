// Bias broadcast over rows, the op BiasGelu fuses away:
//   x: [N, C]   b: [C]   y: [N, C]        y[r, c] = x[r, c] + b[c]
// One pass over memory (read x, write y), one add per element: memory-bound at any shape.
using System.Numerics.Tensors;

namespace CourseLib.Kernels;

/// <summary>
/// Adds a bias to every row (the unfused first step of bias + activation). <see cref="Forward"/> is vectorized
/// (TensorPrimitives, one row at a time); <see cref="ForwardReference"/> is the plain loop.
/// </summary>
public static class BiasAdd
{
    /// <summary>y = x + b per row. <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input [N, C].</param>
    /// <param name="bias">b, [C].</param>
    /// <param name="y">Output [N, C]: x itself or disjoint from x and bias.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c)
    {
        Validate(x, bias, y, n, c);
        for (int r = 0; r < n; r++)
        {
            TensorPrimitives.Add(x.Slice(r * c, c), bias, y.Slice(r * c, c));
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c)
    {
        Validate(x, bias, y, n, c);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < c; j++)
            {
                y[r * c + j] = x[r * c + j] + bias[j];
            }
        }
    }

    private static void Validate(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        Check.Length(x.Length, (long)n * c, nameof(x), $"N·C = {n}·{c}");
        Check.Length(bias.Length, c, nameof(bias), $"C = {c}");
        Check.Destination(y.Length, (long)n * c, nameof(y), $"N·C = {n}·{c}");
        Check.NoOverlap(bias, nameof(bias), y, nameof(y));
        // In place (y is x) is fine: each element is read before it is written. A partial overlap is not.
        if (x.Overlaps(y, out int offset) && offset != 0)
        {
            throw new ArgumentException("y overlaps x at an offset; pass x itself (in place) or a separate buffer.", nameof(y));
        }
    }
}
