// y[N, O] = x[N, I]·Wᵀ + b with W: [O, I] in float32 — the baseline of the low-precision formats, run by the same
// blocked kernel (BlockedLinear) with a "decoder" that only loads. Comparing it with HalfLinear, BFloat16Linear and
// Int8Linear isolates what the storage format changes: bytes per weight and the cost of widening them.
// For N ≥ 64 it is exactly Linear.Forward (the packed GEMM); for N < 64 it skips the GEMM's packing, which for one or
// a few rows costs more than the product itself (Linear.Forward packs every weight before using it once).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>Linear forward with float32 weights on the low-precision layers' kernel, for like-for-like comparisons.</summary>
public static class SingleLinear
{
    private const int GemmN = 64;

    /// <summary>Fast forward: writes <paramref name="y"/>[N, O] = x·Wᵀ + b.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I], float32.</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        Check.NoOverlap(w, nameof(w), y, nameof(y));
        if (n >= GemmN)
        {
            Linear.Forward(x, w, b, y, n, inDim, outDim);
            return;
        }

        fixed (float* pw = w)
        {
            BlockedLinear.Forward(new Decoder(pw, inDim), x, b, y, n, inDim, outDim);
        }
    }

    /// <summary>Reference forward: the plain triple loop, sums in double.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I], float32.</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        for (int row = 0; row < n; row++)
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = b.IsEmpty ? 0 : b[o];
                for (int i = 0; i < inDim; i++)
                {
                    sum += (double)x[row * inDim + i] * w[o * inDim + i];
                }

                y[row * outDim + o] = (float)sum;
            }
        }
    }

    private readonly unsafe struct Decoder(float* w, int inDim) : IRowDecoder
    {
        public void Decode(int row, Span<float> destination) =>
            new ReadOnlySpan<float>(w + (long)row * inDim, inDim).CopyTo(destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Load16(int row, int k) => Vector512.Load(w + (long)row * inDim + k);

        public float Get(int row, int k) => w[(long)row * inDim + k];

        public float RowScale(int row) => 1f;
    }
}
