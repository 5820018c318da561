// y[N, O] = x[N, I]·Wᵀ + b with W: [O, I] stored as Half (PyTorch's nn.Linear layout), b: [O] float or empty.
// Weights are widened to float on the fly (in registers for N < 4, in blocks of rows otherwise: see BlockedLinear);
// products and sums are float. Only W's storage is 16-bit: half the bytes of a float32 weight to read, which is
// what limits a Linear at small N. .NET exposes no F16C instructions, so widening a Half is ~8 vector operations
// per 16 weights against bfloat16's 2; at N = 1 that, not memory, sets the Half layer's speed.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>Linear forward with Half weights and float activations, accumulating in float.</summary>
public static class HalfLinear
{
    /// <summary>Fast forward: writes <paramref name="y"/>[N, O] = x·Wᵀ + b.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I] in Half (see <see cref="HalfConvert.ToHalf"/>).</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<Half> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        fixed (Half* pw = w)
        {
            BlockedLinear.Forward(new Decoder(pw, inDim), x, b, y, n, inDim, outDim);
        }
    }

    /// <summary>Reference forward: each weight widened with <c>(float)</c> as it is used, sums in double.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="w">Weight [O, I] in Half.</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<Half> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, w.Length, nameof(w), b, y, n, inDim, outDim);
        for (int row = 0; row < n; row++)
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = b.IsEmpty ? 0 : b[o];
                for (int i = 0; i < inDim; i++)
                {
                    sum += (double)x[row * inDim + i] * (float)w[o * inDim + i];
                }

                y[row * outDim + o] = (float)sum;
            }
        }
    }

    private readonly unsafe struct Decoder(Half* w, int inDim) : IRowDecoder
    {
        public void Decode(int row, Span<float> destination) =>
            HalfConvert.ToSingleUnchecked(new ReadOnlySpan<Half>(w + (long)row * inDim, inDim), destination);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Load16(int row, int k) =>
            HalfConvert.Widen(Vector512.WidenLower(Vector256.Load((ushort*)(w + (long)row * inDim + k)).ToVector512Unsafe()));

        public float Get(int row, int k) => (float)w[(long)row * inDim + k];

        public float RowScale(int row) => 1f;
    }
}
