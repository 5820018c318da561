// Residual add fused with LayerNorm (the Post-LN step, and the "add & norm" of a Pre-LN block's next sublayer).
//   x, r, sum, y: [N, C]   γ, β: [C]   mean, rstd: [N]
//
//   sum = x + r                                  written out: it is the residual stream the next layer adds to
//   y   = LayerNorm(sum; γ, β, eps)              mean and rstd cached as in LayerNorm
//
// Backward. Two gradients reach sum: the one through the LayerNorm (from dy), and optionally one that
// arrives along the residual stream itself (dsumExtra, e.g. from a later `x + F(x)` that used sum directly):
//   dsum += LayerNormBackward(dy)  +  dsumExtra           dγ += Σ dy·x̂,  dβ += Σ dy
// Because sum = x + r, dsum is both dx and dr: the caller adds it to each (or uses one buffer for both).
//
// One pass per row computes sum and Σsum together; the row is then in L1 for the variance and the normalize
// passes, so the fused kernel reads x and r once and writes sum and y once. Numerics as LayerNorm.
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// sum = x + r, y = LayerNorm(sum) in one sweep over each row, and its backward, which can fold in a gradient
/// arriving on the residual stream. See the file header and <see cref="LayerNorm"/>.
/// </summary>
public static class ResidualLayerNorm
{
    /// <summary>Writes sum = x + r and y = LayerNorm(sum; γ, β), caching mean and rstd per row (fast path).</summary>
    /// <param name="x">Residual stream input, <c>[N, C]</c>.</param>
    /// <param name="r">The branch output added to it, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="beta">Shift β, <c>[C]</c>.</param>
    /// <param name="sum">Receives x + r, <c>[N, C]</c>; must not overlap any input or output.</param>
    /// <param name="y">Receives LayerNorm(sum), <c>[N, C]</c>.</param>
    /// <param name="mean">Receives each row's mean of sum, <c>[N]</c>.</param>
    /// <param name="rstd">Receives each row's 1/sqrt(var + eps), <c>[N]</c>.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    /// <param name="eps">Added to the biased variance inside the square root; ≥ 0 and finite.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> r, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, Span<float> sum, Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps = 1e-5f)
    {
        Validate(x, r, gamma, beta, sum, y, mean, rstd, n, c, eps);
        fixed (float* px = x, pr = r, pg = gamma, pb = beta, ps = sum, py = y, pm = mean, pv = rstd)
        {
            int minRows = LayerNorm.MinRowsPerThread(c);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new ForwardBody(px, pr, pg, pb, ps, py, pm, pv, c, eps, LayerNorm.Streams((long)n * c), FourRows(n, c));
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                ForwardRows(px, pr, pg, pb, ps, py, pm, pv, 0, n, c, eps, LayerNorm.Streams((long)n * c), FourRows(n, c));
            }
        }
    }

    /// <summary>The plain version of <see cref="Forward"/>: the add, then <see cref="LayerNorm.ForwardReference"/>.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> r, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, Span<float> sum, Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps = 1e-5f)
    {
        Validate(x, r, gamma, beta, sum, y, mean, rstd, n, c, eps);
        for (int i = 0; i < n * c; i++)
        {
            sum[i] = x[i] + r[i];
        }

        LayerNorm.ForwardReference(sum[..(n * c)], gamma, beta, y, mean, rstd, n, c, eps);
    }

    /// <summary>
    /// Accumulates dsum += LayerNorm backward of <paramref name="dy"/> + <paramref name="dsumExtra"/>, dγ and dβ
    /// (fast path). dsum is the gradient of both x and r. Empty <paramref name="dsumExtra"/> means no extra gradient;
    /// empty <paramref name="dsum"/>, <paramref name="dgamma"/> or <paramref name="dbeta"/> skip that output.
    /// </summary>
    /// <param name="dy">Gradient of y, <c>[N, C]</c>.</param>
    /// <param name="dsumExtra">Gradient reaching sum along the residual stream, <c>[N, C]</c>, or empty.</param>
    /// <param name="sum">The forward's sum = x + r, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="mean">Row means cached by <see cref="Forward"/>, <c>[N]</c>.</param>
    /// <param name="rstd">Row 1/σ cached by <see cref="Forward"/>, <c>[N]</c>.</param>
    /// <param name="dsum">Accumulates the gradient of sum (= of x = of r), <c>[N, C]</c>, or empty.</param>
    /// <param name="dgamma">Accumulates the γ gradient, <c>[C]</c>, or empty.</param>
    /// <param name="dbeta">Accumulates the β gradient, <c>[C]</c>, or empty.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> dsumExtra, ReadOnlySpan<float> sum,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dsum, Span<float> dgamma,
        Span<float> dbeta, int n, int c)
    {
        LayerNorm.ValidateBackward(dy, sum, gamma, mean, rstd, dsumExtra, dsum, dgamma, dbeta, n, c, nameof(sum), nameof(dsum));
        fixed (float* pdy = dy, pe = dsumExtra, ps = sum, pg = gamma, pm = mean, pr = rstd, pds = dsum, pdg = dgamma, pdb = dbeta)
        {
            LayerNorm.BackwardDispatch(pdy, ps, pg, pm, pr, dsumExtra.IsEmpty ? null : pe, dsum.IsEmpty ? null : pds,
                dgamma.IsEmpty ? null : pdg, dbeta.IsEmpty ? null : pdb, n, c);
        }
    }

    /// <summary>The plain version of <see cref="Backward"/>.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> dsumExtra, ReadOnlySpan<float> sum,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dsum, Span<float> dgamma,
        Span<float> dbeta, int n, int c)
    {
        LayerNorm.ValidateBackward(dy, sum, gamma, mean, rstd, dsumExtra, dsum, dgamma, dbeta, n, c, nameof(sum), nameof(dsum));
        LayerNorm.BackwardReferenceCore(dy, sum, gamma, mean, rstd, dsumExtra, dsum, dgamma, dbeta, n, c);
    }

    private static void Validate(ReadOnlySpan<float> x, ReadOnlySpan<float> r, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> beta, Span<float> sum, Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        RowChecks.Matrix(r.Length, n, c, nameof(r));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(beta.Length, c, nameof(beta), "C");
        RowChecks.MatrixDestination(sum.Length, n, c, nameof(sum));
        RowChecks.MatrixDestination(y.Length, n, c, nameof(y));
        Check.Destination(mean.Length, n, nameof(mean), "N");
        Check.Destination(rstd.Length, n, nameof(rstd), "N");
        LayerNorm.Eps(eps);
        // sum is written and then read back (variance, normalize), so it must be its own buffer, like every output.
        Separate(x, nameof(x), sum, y, mean, rstd);
        Separate(r, nameof(r), sum, y, mean, rstd);
        Separate(gamma, nameof(gamma), sum, y, mean, rstd);
        Separate(beta, nameof(beta), sum, y, mean, rstd);
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), sum, nameof(sum));
    }

    private static void Separate(ReadOnlySpan<float> input, string name, Span<float> sum, Span<float> y, Span<float> mean, Span<float> rstd)
    {
        Check.NoOverlap(input, name, sum, nameof(sum));
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), input, name);
    }

    private readonly unsafe struct ForwardBody(float* x, float* r, float* gamma, float* beta, float* sum, float* y, float* mean,
        float* rstd, int c, float eps, bool streaming, bool fourRows) : IRangeBody
    {
        public void Run(int start, int end) => ForwardRows(x, r, gamma, beta, sum, y, mean, rstd, start, end, c, eps, streaming, fourRows);
    }

    // Four rows at a time only for short rows (C ≤ 64) that LayerNorm would group: there the latency of each row's chain
    // dominates ([8, 64]: ~420 → ~265 ns). Longer rows are faster in the fused one-row pass, which adds and sums in one
    // sweep, than as a separate add before LayerNorm's four-row pass (256×256: ~20 → ~25 µs, 64×768: ~14 → ~19 µs).
    private static bool FourRows(long n, int c) => c <= 64 && LayerNorm.GroupsOfFour(n, c);

    // Large outputs stream past the caches (see LayerNorm.Streams and StreamRows).
    private static unsafe void ForwardRows(float* x, float* r, float* gamma, float* beta, float* sum, float* y,
        float* mean, float* rstd, int start, int end, int c, float eps, bool streaming, bool fourRows)
    {
        if (streaming)
        {
            StreamRows(x, r, gamma, beta, sum, y, mean, rstd, start, end, c, eps);
            return;
        }

        int row = start;
        for (; fourRows && row + 4 <= end; row += 4)
        {
            // Four rows' sums first, then LayerNorm's four-row pass over them: AddAndSum accumulates exactly the sums
            // it stores, so these are the same results as the one-row loop below.
            long o = (long)row * c;
            var block = new Span<float>(sum + o, 4 * c);
            TensorPrimitives.Add(new ReadOnlySpan<float>(x + o, 4 * c), new ReadOnlySpan<float>(r + o, 4 * c), block);
            LayerNorm.ForwardRows4(sum, gamma, beta, y, mean, rstd, row, c, eps, streaming: false);
        }

        for (; row < end; row++)
        {
            long o = (long)row * c;
            float m = AddAndSum(x + o, r + o, sum + o, c) / c;
            float s = 1f / MathF.Sqrt(LayerNorm.SquaredDeviation(sum + o, c, m) / c + eps);
            LayerNorm.Normalize(sum + o, gamma, beta, y + o, c, m, s);
            mean[row] = m;
            rstd[row] = s;
        }
    }

    // For outputs far larger than the caches (LayerNorm.Streams): each row's sum is built in an L1-resident scratch row,
    // which the variance and normalize passes read, and both sum and y leave with non-temporal stores. Written with
    // ordinary stores, sum and y would each first be read from memory: 4,096×768 on one thread took 2,400–2,600 µs
    // with y alone streamed and takes 1,800–2,000 µs with both. Same arithmetic, same results as the ordinary rows.
    private static unsafe void StreamRows(float* x, float* r, float* gamma, float* beta, float* sum, float* y,
        float* mean, float* rstd, int start, int end, int c, float eps)
    {
        using var lease = ThreadScratch.Floats(c + 16, out float[] rented);
        fixed (float* raw = rented)
        {
            float* scratch = RowVectors.AlignTo64(raw);
            for (int row = start; row < end; row++)
            {
                long o = (long)row * c;
                float m = AddAndSum(x + o, r + o, scratch, c) / c;
                RowVectors.CopyNonTemporal(sum + o, scratch, c);
                float s = 1f / MathF.Sqrt(LayerNorm.SquaredDeviation(scratch, c, m) / c + eps);
                LayerNorm.Normalize(scratch, gamma, beta, y + o, c, m, s, streaming: true);
                mean[row] = m;
                rstd[row] = s;
            }
        }

        Sse.StoreFence();
    }

    /// <summary>sum = x + r over a row, returning Σ sum.</summary>
    private static unsafe float AddAndSum(float* x, float* r, float* sum, int c)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, a2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero;
            for (; i <= c - 64; i += 64)
            {
                Vector512<float> v0 = Vector512.Load(x + i) + Vector512.Load(r + i);
                Vector512<float> v1 = Vector512.Load(x + i + 16) + Vector512.Load(r + i + 16);
                Vector512<float> v2 = Vector512.Load(x + i + 32) + Vector512.Load(r + i + 32);
                Vector512<float> v3 = Vector512.Load(x + i + 48) + Vector512.Load(r + i + 48);
                v0.Store(sum + i);
                v1.Store(sum + i + 16);
                v2.Store(sum + i + 32);
                v3.Store(sum + i + 48);
                a0 += v0;
                a1 += v1;
                a2 += v2;
                a3 += v3;
            }

            for (; i <= c - 16; i += 16)
            {
                Vector512<float> v0 = Vector512.Load(x + i) + Vector512.Load(r + i);
                v0.Store(sum + i);
                a0 += v0;
            }

            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> v0 = Vector256.Load(x + i) + Vector256.Load(r + i);
                v0.Store(sum + i);
                a0 += v0;
            }

            s += Vector256.Sum(a0);
        }

        for (; i < c; i++)
        {
            float v = x[i] + r[i];
            sum[i] = v;
            s += v;
        }

        return s;
    }
}
