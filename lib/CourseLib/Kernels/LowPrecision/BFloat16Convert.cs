// float32 ↔ bfloat16, stored as the raw 16 bits in a ushort: the upper half of a float
// (1 sign, 8 exponent, 7 mantissa bits), so it has float's range with 8 significant bits.
//
//   x: [N] float   →  h: [N] ushort   h = (bits(x) + 0x7FFF + ((bits(x) >> 16) & 1)) >> 16
//                                     (round to nearest, ties to even; overflow rounds to ±∞ as it should);
//                                     NaN → 0x7FC0 (a quiet NaN, as libtorch writes it: the rounding add could
//                                     otherwise carry a NaN's low mantissa bits into ∞)
//   h: [N] ushort  →  x: [N] float    bits(x) = h << 16 (exact)
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>
/// Conversions between float and bfloat16 ("brain float"), held as raw bits in <see cref="ushort"/> because .NET 10
/// has no public BFloat16 type. bfloat16 keeps float's exponent range (no overflow where float has none) and 8
/// significant bits: relative rounding error ≤ 2⁻⁸ ≈ 3.9e-3, eight times coarser than <see cref="Half"/>.
/// </summary>
public static class BFloat16Convert
{
    /// <summary>The bfloat16 libtorch (and this class) writes for every NaN.</summary>
    public const ushort NaN = 0x7FC0;

    /// <summary>Rounds one float to bfloat16 bits (nearest, ties to even; NaN → <see cref="NaN"/>).</summary>
    /// <param name="value">The float to round.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        if (float.IsNaN(value))
        {
            return NaN;
        }

        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint lsb = (bits >> 16) & 1u;
        return (ushort)((bits + 0x7FFFu + lsb) >> 16);
    }

    /// <summary>Widens bfloat16 bits to the float they denote (exact).</summary>
    /// <param name="bits">The bfloat16 bits.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Rounds each float to bfloat16 bits. Writes <paramref name="destination"/>[0..N).</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(source);
            ref ushort dst = ref MemoryMarshal.GetReference(destination);
            var one = Vector512.Create(1u);
            var bias = Vector512.Create(0x7FFFu);
            var nan = Vector512.Create((uint)NaN);
            for (; i + 32 <= source.Length; i += 32)
            {
                var lo = Round(Vector512.LoadUnsafe(ref src, (nuint)i), one, bias, nan);
                var hi = Round(Vector512.LoadUnsafe(ref src, (nuint)(i + 16)), one, bias, nan);
                Vector512.Narrow(lo, hi).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            ref float src = ref MemoryMarshal.GetReference(source);
            ref ushort dst = ref MemoryMarshal.GetReference(destination);
            var one = Vector256.Create(1u);
            var bias = Vector256.Create(0x7FFFu);
            var nan = Vector256.Create((uint)NaN);
            for (; i + 16 <= source.Length; i += 16)
            {
                var lo = Round(Vector256.LoadUnsafe(ref src, (nuint)i), one, bias, nan);
                var hi = Round(Vector256.LoadUnsafe(ref src, (nuint)(i + 8)), one, bias, nan);
                Vector256.Narrow(lo, hi).StoreUnsafe(ref dst, (nuint)i);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = FromSingle(source[i]);
        }
    }

    /// <summary>Widens bfloat16 bits to floats (exact). Writes <paramref name="destination"/>[0..N).</summary>
    /// <param name="source">bfloat16 bits, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        ToSingleUnchecked(source, destination);
    }

    /// <summary>Reference for <see cref="ToBFloat16"/>: <see cref="FromSingle"/> element by element.</summary>
    /// <param name="source">Values to convert, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToBFloat16Reference(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = FromSingle(source[i]);
        }
    }

    /// <summary>Reference for <see cref="ToSingle(ReadOnlySpan{ushort}, Span{float})"/>: one shift per element.</summary>
    /// <param name="source">bfloat16 bits, [N].</param>
    /// <param name="destination">Destination, at least N elements.</param>
    public static void ToSingleReference(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        Check.Destination(destination.Length, source.Length, nameof(destination), "N");
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = ToSingle(source[i]);
        }
    }

    internal static void ToSingleUnchecked(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref ushort src = ref MemoryMarshal.GetReference(source);
            ref float dst = ref MemoryMarshal.GetReference(destination);
            for (; i + 32 <= source.Length; i += 32)
            {
                var bits = Vector512.LoadUnsafe(ref src, (nuint)i);
                (Vector512.WidenLower(bits) << 16).AsSingle().StoreUnsafe(ref dst, (nuint)i);
                (Vector512.WidenUpper(bits) << 16).AsSingle().StoreUnsafe(ref dst, (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            ref ushort src = ref MemoryMarshal.GetReference(source);
            ref float dst = ref MemoryMarshal.GetReference(destination);
            for (; i + 16 <= source.Length; i += 16)
            {
                var bits = Vector256.LoadUnsafe(ref src, (nuint)i);
                (Vector256.WidenLower(bits) << 16).AsSingle().StoreUnsafe(ref dst, (nuint)i);
                (Vector256.WidenUpper(bits) << 16).AsSingle().StoreUnsafe(ref dst, (nuint)(i + 8));
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = ToSingle(source[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Round(Vector256<float> x, Vector256<uint> one, Vector256<uint> bias, Vector256<uint> nan)
    {
        var bits = x.AsUInt32();
        var rounded = (bits + bias + ((bits >> 16) & one)) >> 16;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x).AsUInt32(), rounded, nan);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Round(Vector512<float> x, Vector512<uint> one, Vector512<uint> bias, Vector512<uint> nan)
    {
        var bits = x.AsUInt32();
        var rounded = (bits + bias + ((bits >> 16) & one)) >> 16;
        // x == x is false exactly for NaN.
        return Vector512.ConditionalSelect(Vector512.Equals(x, x).AsUInt32(), rounded, nan);
    }
}
