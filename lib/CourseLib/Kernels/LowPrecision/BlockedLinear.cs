// y[N, O] = x[N, I]·Wᵀ + b for a weight W[O, I] stored in some compact form (Half, bfloat16, int8 + scales),
// accumulating in float. Two paths:
//   N < 4 (decoding a token at a time; AVX-512 only): each 16 weights are widened in registers and used at once; W is read
//         exactly once, in its compact form, which is the point of low-precision storage at small N.
//   4 ≤ N < 64: 16 rows of W are decoded into a small float buffer (L1-resident), then multiplied with every
//         row of x by a 4×4 register-blocked kernel (16 Vector512 accumulators).
//   N ≥ 64 (compute-bound): 512 rows of W at a time are decoded into a float buffer and handed to the float32
//         Linear (packed GEMM), writing a [N, 512] slab of y; decoding costs ≤ 1/64 of the multiply-adds.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>Reads a compactly stored weight matrix W[O, I] as floats.</summary>
internal interface IRowDecoder
{
    /// <summary>Writes row <paramref name="row"/> of W (length I), scale included, into <paramref name="destination"/>.</summary>
    void Decode(int row, Span<float> destination);

    /// <summary>W[row, k .. k + 16) before the row scale (k + 16 ≤ I).</summary>
    Vector512<float> Load16(int row, int k);

    /// <summary>W[row, k] before the row scale.</summary>
    float Get(int row, int k);

    /// <summary>The factor every weight of the row is multiplied by (1 for Half and bfloat16).</summary>
    float RowScale(int row);
}

/// <summary>The shared forward of the low-precision Linear layers.</summary>
internal static unsafe class BlockedLinear
{
    private const int BlockRows = 16;
    private const int XBlock = 64;
    private const int SmallN = 4;
    private const int GemmN = 64;
    private const int GemmRows = 512;

    // Below this many multiply-adds per thread a hand-off costs more than it saves.
    private const long MinWorkPerThread = 1L << 18;

    public static void Forward<TDecoder>(TDecoder decoder, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int inDim, int outDim)
        where TDecoder : struct, IRowDecoder
    {
        if (n >= GemmN)
        {
            ForwardViaGemm(decoder, x, bias, y, n, inDim, outDim);
            return;
        }

        fixed (float* px = x, pb = bias, py = y)
        {
            var job = new Job(px, bias.IsEmpty ? null : pb, py, n, inDim, outDim);
            int blocks = (outDim + BlockRows - 1) / BlockRows;
            long perBlock = (long)n * BlockRows * inDim;
            int minPerThread = (int)Math.Clamp(MinWorkPerThread / Math.Max(1, perBlock), 1, int.MaxValue);
            if (blocks < 2 * minPerThread || KernelThreads.Max == 1)
            {
                Range(decoder, job, 0, blocks);
            }
            else
            {
                Parallel(decoder, job, blocks, minPerThread);
            }
        }
    }

    // Linear.Forward threads over its own tiles, so this loop stays on the calling thread. It holds this thread's float
    // scratch (decoded weights, then the output slab) while it calls Linear.Forward, which takes none.
    private static void ForwardViaGemm<TDecoder>(TDecoder decoder, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int inDim, int outDim)
        where TDecoder : struct, IRowDecoder
    {
        int chunk = Math.Min(GemmRows, outDim);
        int slabLength = chunk == outDim ? 0 : n * chunk;
        using var lease = ThreadScratch.Floats((chunk * inDim) + slabLength, out float[] scratch);
        for (int o0 = 0; o0 < outDim; o0 += chunk)
        {
            int rows = Math.Min(chunk, outDim - o0);
            Span<float> w = scratch.AsSpan(0, rows * inDim);
            for (int r = 0; r < rows; r++)
            {
                decoder.Decode(o0 + r, w.Slice(r * inDim, inDim));
            }

            ReadOnlySpan<float> b = bias.IsEmpty ? bias : bias.Slice(o0, rows);
            if (rows == outDim)
            {
                Linear.Forward(x, w, b, y[..(n * outDim)], n, inDim, outDim);
                continue;
            }

            Span<float> slab = scratch.AsSpan(chunk * inDim, n * rows);
            Linear.Forward(x, w, b, slab, n, inDim, rows);
            for (int i = 0; i < n; i++)
            {
                slab.Slice(i * rows, rows).CopyTo(y.Slice(i * outDim + o0, rows));
            }
        }
    }

    private readonly struct Job(float* x, float* bias, float* y, int n, int inDim, int outDim)
    {
        public readonly float* X = x, Bias = bias, Y = y;
        public readonly int N = n, In = inDim, Out = outDim;
    }

    private static void Parallel<TDecoder>(TDecoder decoder, Job job, int blocks, int minPerThread)
        where TDecoder : struct, IRowDecoder
    {
        var body = new RangeBody<TDecoder>(decoder, job);
        KernelThreads.For(blocks, minPerThread, ref body);
    }

    private readonly struct RangeBody<TDecoder>(TDecoder decoder, Job job) : IRangeBody
        where TDecoder : struct, IRowDecoder
    {
        private readonly TDecoder _decoder = decoder;
        private readonly Job _job = job;

        public void Run(int start, int end) => Range(_decoder, _job, start, end);
    }

    private static void Range<TDecoder>(TDecoder decoder, Job job, int start, int end)
        where TDecoder : struct, IRowDecoder
    {
        if (job.N < SmallN && Vector512.IsHardwareAccelerated)
        {
            FusedRange(decoder, job, start * BlockRows, Math.Min(job.Out, end * BlockRows));
            return;
        }

        int inDim = job.In, outDim = job.Out, n = job.N;
        using var lease = ThreadScratch.Floats(BlockRows * inDim, out float[] rented);
        fixed (float* wbuf = rented)
        {
            float* sums = stackalloc float[16];
            for (int x0 = 0; x0 < n; x0 += XBlock)
            {
                int x1 = Math.Min(n, x0 + XBlock);
                for (int block = start; block < end; block++)
                {
                    int o0 = block * BlockRows;
                    int rows = Math.Min(BlockRows, outDim - o0);
                    for (int r = 0; r < rows; r++)
                    {
                        decoder.Decode(o0 + r, new Span<float>(wbuf + r * inDim, inDim));
                    }

                    // The 4-row kernel reads whole groups of 4: zero rows stand in past the last output.
                    int padded = (rows + 3) & ~3;
                    new Span<float>(wbuf + rows * inDim, (padded - rows) * inDim).Clear();

                    for (int wr = 0; wr < padded; wr += 4)
                    {
                        int valid = Math.Min(4, rows - wr);
                        float* w = wbuf + wr * inDim;
                        int xi = x0;
                        for (; xi + 4 <= x1; xi += 4)
                        {
                            Dot4x4(job.X + (long)xi * inDim, w, inDim, sums);
                            Store(job, sums, xi, 4, o0 + wr, valid);
                        }

                        for (; xi < x1; xi++)
                        {
                            Dot1x4(job.X + (long)xi * inDim, w, inDim, sums);
                            Store(job, sums, xi, 1, o0 + wr, valid);
                        }
                    }
                }
            }
        }
    }

    // Outputs [o0, o1) for every row of x (N < 4), weights widened in registers.
    private static void FusedRange<TDecoder>(TDecoder decoder, Job job, int o0, int o1)
        where TDecoder : struct, IRowDecoder
    {
        float* sums = stackalloc float[4];
        for (int xi = 0; xi < job.N; xi++)
        {
            float* x = job.X + (long)xi * job.In;
            float* yRow = job.Y + (long)xi * job.Out;
            int o = o0;
            for (; o + 4 <= o1; o += 4)
            {
                FusedDot4(decoder, x, o, job.In, sums);
                for (int j = 0; j < 4; j++)
                {
                    yRow[o + j] = sums[j] * decoder.RowScale(o + j) + (job.Bias == null ? 0f : job.Bias[o + j]);
                }
            }

            for (; o < o1; o++)
            {
                yRow[o] = FusedDot1(decoder, x, o, job.In) * decoder.RowScale(o) + (job.Bias == null ? 0f : job.Bias[o]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FusedDot4<TDecoder>(TDecoder decoder, float* x, int o, int len, float* sums)
        where TDecoder : struct, IRowDecoder
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (; k + 16 <= len; k += 16)
        {
            var u = Vector512.Load(x + k);
            a0 = Vector512.FusedMultiplyAdd(u, decoder.Load16(o, k), a0);
            a1 = Vector512.FusedMultiplyAdd(u, decoder.Load16(o + 1, k), a1);
            a2 = Vector512.FusedMultiplyAdd(u, decoder.Load16(o + 2, k), a2);
            a3 = Vector512.FusedMultiplyAdd(u, decoder.Load16(o + 3, k), a3);
        }

        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; k < len; k++)
        {
            s0 += x[k] * decoder.Get(o, k);
            s1 += x[k] * decoder.Get(o + 1, k);
            s2 += x[k] * decoder.Get(o + 2, k);
            s3 += x[k] * decoder.Get(o + 3, k);
        }

        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }

    private static float FusedDot1<TDecoder>(TDecoder decoder, float* x, int o, int len)
        where TDecoder : struct, IRowDecoder
    {
        Vector512<float> a0 = Vector512<float>.Zero;
        int k = 0;
        for (; k + 16 <= len; k += 16)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x + k), decoder.Load16(o, k), a0);
        }

        float s = Vector512.Sum(a0);
        for (; k < len; k++)
        {
            s += x[k] * decoder.Get(o, k);
        }

        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Job job, float* sums, int xi, int xRows, int o, int valid)
    {
        for (int i = 0; i < xRows; i++)
        {
            float* yRow = job.Y + (long)(xi + i) * job.Out + o;
            for (int j = 0; j < valid; j++)
            {
                yRow[j] = sums[i * 4 + j] + (job.Bias == null ? 0f : job.Bias[o + j]);
            }
        }
    }

    // sums[i·4 + j] = x_i · w_j for 4 rows of x (stride len) and 4 rows of w (stride len).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x4(float* x, float* w, int len, float* sums)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            // Without AVX-512: TensorPrimitives picks the widest vectors the machine has.
            for (int i = 0; i < 4; i++)
            {
                Dot1x4(x + (long)i * len, w, len, sums + 4 * i);
            }

            return;
        }

        float* x1 = x + len, x2 = x1 + len, x3 = x2 + len;
        float* w1 = w + len, w2 = w1 + len, w3 = w2 + len;
        Vector512<float> a00 = Vector512<float>.Zero, a01 = a00, a02 = a00, a03 = a00;
        Vector512<float> a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        Vector512<float> a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        Vector512<float> a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; k + 16 <= len; k += 16)
            {
                var v0 = Vector512.Load(w + k);
                var v1 = Vector512.Load(w1 + k);
                var v2 = Vector512.Load(w2 + k);
                var v3 = Vector512.Load(w3 + k);
                var u = Vector512.Load(x + k);
                a00 = Vector512.FusedMultiplyAdd(u, v0, a00);
                a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
                a02 = Vector512.FusedMultiplyAdd(u, v2, a02);
                a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
                u = Vector512.Load(x1 + k);
                a10 = Vector512.FusedMultiplyAdd(u, v0, a10);
                a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
                a12 = Vector512.FusedMultiplyAdd(u, v2, a12);
                a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
                u = Vector512.Load(x2 + k);
                a20 = Vector512.FusedMultiplyAdd(u, v0, a20);
                a21 = Vector512.FusedMultiplyAdd(u, v1, a21);
                a22 = Vector512.FusedMultiplyAdd(u, v2, a22);
                a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
                u = Vector512.Load(x3 + k);
                a30 = Vector512.FusedMultiplyAdd(u, v0, a30);
                a31 = Vector512.FusedMultiplyAdd(u, v1, a31);
                a32 = Vector512.FusedMultiplyAdd(u, v2, a32);
                a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
            }
        }

        sums[0] = Vector512.Sum(a00); sums[1] = Vector512.Sum(a01); sums[2] = Vector512.Sum(a02); sums[3] = Vector512.Sum(a03);
        sums[4] = Vector512.Sum(a10); sums[5] = Vector512.Sum(a11); sums[6] = Vector512.Sum(a12); sums[7] = Vector512.Sum(a13);
        sums[8] = Vector512.Sum(a20); sums[9] = Vector512.Sum(a21); sums[10] = Vector512.Sum(a22); sums[11] = Vector512.Sum(a23);
        sums[12] = Vector512.Sum(a30); sums[13] = Vector512.Sum(a31); sums[14] = Vector512.Sum(a32); sums[15] = Vector512.Sum(a33);
        for (; k < len; k++)
        {
            float* xs = x + k;
            for (int i = 0; i < 4; i++)
            {
                float xv = xs[(long)i * len];
                sums[i * 4] += xv * w[k];
                sums[i * 4 + 1] += xv * w1[k];
                sums[i * 4 + 2] += xv * w2[k];
                sums[i * 4 + 3] += xv * w3[k];
            }
        }
    }

    // sums[j] = x · w_j for one row of x and 4 rows of w.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot1x4(float* x, float* w, int len, float* sums)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            var xs = new ReadOnlySpan<float>(x, len);
            for (int j = 0; j < 4; j++)
            {
                sums[j] = TensorPrimitives.Dot(xs, new ReadOnlySpan<float>(w + (long)j * len, len));
            }

            return;
        }

        float* w1 = w + len, w2 = w1 + len, w3 = w2 + len;
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; k + 16 <= len; k += 16)
            {
                var u = Vector512.Load(x + k);
                a0 = Vector512.FusedMultiplyAdd(u, Vector512.Load(w + k), a0);
                a1 = Vector512.FusedMultiplyAdd(u, Vector512.Load(w1 + k), a1);
                a2 = Vector512.FusedMultiplyAdd(u, Vector512.Load(w2 + k), a2);
                a3 = Vector512.FusedMultiplyAdd(u, Vector512.Load(w3 + k), a3);
            }
        }

        sums[0] = Vector512.Sum(a0);
        sums[1] = Vector512.Sum(a1);
        sums[2] = Vector512.Sum(a2);
        sums[3] = Vector512.Sum(a3);
        for (; k < len; k++)
        {
            sums[0] += x[k] * w[k];
            sums[1] += x[k] * w1[k];
            sums[2] += x[k] * w2[k];
            sums[3] += x[k] * w3[k];
        }
    }
}
