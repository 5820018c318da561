// float32 ↔ IEEE 754 binary16 (System.Half): 1 sign, 5 exponent, 10 mantissa bits.
//
//   x: [N] float  →  h: [N] Half   rounded to nearest, ties to even; |x| > 65504 (+ half an ulp) → ±∞;
//                                  tiny values become subnormals or ±0; NaN stays NaN.
//   h: [N] Half   →  x: [N] float  exact (every Half is a float).
using System.Numerics.Tensors;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>
/// Conversions between float and <see cref="Half"/> storage. Half keeps 11 significant bits (relative rounding error
/// ≤ 2⁻¹¹ ≈ 4.9e-4) but only the range ±65504, so it suits weights and activations of a normalised network, not
/// unscaled gradients or sums.
/// </summary>
/// <remarks>
/// .NET offers no Vector512 Half instructions through its portable API; the fast path is
/// <see cref="TensorPrimitives.ConvertToHalf"/> / <see cref="TensorPrimitives.ConvertToSingle(ReadOnlySpan{Half}, Span{float})"/>,
/// which convert 16 or 32 lanes at a time by bit manipulation. The reference is the scalar cast.
/// </remarks>
public static class HalfConvert
{
    /// <summary>Rounds each float to the nearest Half (ties to even). Writes <paramref name="destination"/>[0..N).</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToHalf(ReadOnlySpan<float> source, Span<Half> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        TensorPrimitives.ConvertToHalf(source, destination[..source.Length]);
    }

    /// <summary>Widens each Half to float (exact). Writes <paramref name="destination"/>[0..N).</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        TensorPrimitives.ConvertToSingle(source, destination[..source.Length]);
    }

    /// <summary>Reference for <see cref="ToHalf"/>: the scalar <c>(Half)x</c> cast, element by element.</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToHalfReference(ReadOnlySpan<float> source, Span<Half> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (Half)source[i];
        }
    }

    /// <summary>Reference for <see cref="ToSingle"/>: the scalar <c>(float)h</c> cast, element by element.</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToSingleReference(ReadOnlySpan<Half> source, Span<float> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = (float)source[i];
        }
    }
}
