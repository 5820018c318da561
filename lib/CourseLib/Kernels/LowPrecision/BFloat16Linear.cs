// y[N, O] = x[N, I]·Wᵀ + b with W: [O, I] stored as bfloat16 bits (ushort), b: [O] float or empty.
// Weights are widened to float on the fly (a 16-bit shift, exact; in registers for N < 4, in blocks of rows
// otherwise: see BlockedLinear); products and sums are float.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>Linear forward with bfloat16 weights and float activations, accumulating in float.</summary>
public static class BFloat16Linear
{
    /// <summary>Fast forward: writes <paramref name="y"/>[N, O] = x·Wᵀ + b.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I] as bfloat16 bits (see <see cref="BFloat16Convert.ToBFloat16"/>).</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        fixed (ushort* pw = w)
        {
            BlockedLinear.Forward(new Decoder(pw, inDim), x, b, y, n, inDim, outDim);
        }
    }

    /// <summary>Reference forward: each weight widened with <see cref="BFloat16Convert.ToSingle(ushort)"/>, sums in double.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I] as bfloat16 bits.</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<ushort> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        for (int row = 0; row < n; row++)
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = b.IsEmpty ? 0 : b[o];
                for (int i = 0; i < inDim; i++)
                {
                    sum += (double)x[row * inDim + i] * BFloat16Convert.ToSingle(w[o * inDim + i]);
                }

                y[row * outDim + o] = (float)sum;
            }
        }
    }

    private readonly unsafe struct Decoder(ushort* w, int inDim) : IRowDecoder
    {
        public void Decode(int row, Span<float> destination) =>
            BFloat16Convert.ToSingleUnchecked(new ReadOnlySpan<ushort>(w + (long)row * inDim, inDim), destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Load16(int row, int k) =>
            (Vector512.WidenLower(Vector256.Load(w + (long)row * inDim + k).ToVector512Unsafe()) << 16).AsSingle();

        public float Get(int row, int k) => BFloat16Convert.ToSingle(w[(long)row * inDim + k]);

        public float RowScale(int row) => 1f;
    }
}
