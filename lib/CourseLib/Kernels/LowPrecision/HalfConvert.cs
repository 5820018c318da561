// float32 ↔ IEEE 754 binary16 (System.Half): 1 sign, 5 exponent, 10 mantissa bits.
//
//   x: [N] float  →  h: [N] Half   rounded to nearest, ties to even; |x| > 65504 (+ half an ulp) → ±∞;
//                                  tiny values become subnormals or ±0; NaN stays NaN.
//   h: [N] Half   →  x: [N] float  exact (every Half is a float).
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>
/// Conversions between float and <see cref="Half"/> storage. Half keeps 11 significant bits (relative rounding error
/// ≤ 2⁻¹¹ ≈ 4.9e-4) but only the range ±65504, so it suits weights and activations of a normalised network, not
/// unscaled gradients or sums.
/// </summary>
/// <remarks>
/// .NET offers no Half instructions (F16C) through its portable vector API. Narrowing uses
/// <see cref="TensorPrimitives.ConvertToHalf"/>; widening, which the Half Linear layer does on every call, uses a
/// Vector512 bit manipulation here (16 lanes per step) that is exact for every one of the 65536 Half values.
/// The reference is the scalar cast.
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
        ToSingleUnchecked(source, destination);
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

    internal static unsafe void ToSingleUnchecked(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            TensorPrimitives.ConvertToSingle(source, destination[..source.Length]);
            return;
        }

        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            fixed (Half* src = source)
            fixed (float* dst = destination)
            {
                for (; i + 16 <= source.Length; i += 16)
                {
                    Widen(Vector512.WidenLower(Vector256.Load((ushort*)(src + i)).ToVector512Unsafe())).Store(dst + i);
                }
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (float)source[i];
        }
    }

    /// <summary>
    /// 16 Half bit patterns (low 16 bits of each lane) to floats. Exponent and mantissa move to float's positions
    /// (shift by 13); multiplying by 2¹¹² rebiases the exponent (15 → 127) and turns Half subnormals, which land on
    /// float subnormals, into the right normal floats; ∞ and NaN (all exponent bits set) get float's all-ones exponent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Widen(Vector512<uint> h)
    {
        var sign = (h & Vector512.Create(0x8000u)) << 16;
        var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
        var scaled = (magnitude.AsSingle() * Vector512.Create(Pow2To112)).AsUInt32();
        var special = Vector512.GreaterThanOrEqual(magnitude, Vector512.Create(0x0F800000u));
        // A signalling NaN comes out quiet, as from the scalar cast and the hardware conversion.
        var quiet = Vector512.GreaterThan(magnitude, Vector512.Create(0x0F800000u)) & Vector512.Create(0x00400000u);
        return (Vector512.ConditionalSelect(special, magnitude | Vector512.Create(0x7F800000u) | quiet, scaled) | sign).AsSingle();
    }

    // 2¹¹² exactly (bits 0x77800000). A const, not a static readonly: kernels compiled with AggressiveOptimization
    // would otherwise load it through a class-initialisation check on every call.
    private const float Pow2To112 = 5.192296858534828e33f;
}
