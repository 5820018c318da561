// LayerNorm over the last axis.   x, y: [N, C]   γ, β: [C]   mean, rstd: [N] (cached for backward)
//
//   mean_n  = (1/C) Σ_c x[n,c]
//   var_n   = (1/C) Σ_c (x[n,c] − mean_n)²            biased variance, as PyTorch
//   rstd_n  = 1 / sqrt(var_n + eps)                    eps inside the square root
//   x̂[n,c] = (x[n,c] − mean_n)·rstd_n
//   y[n,c]  = x̂[n,c]·γ[c] + β[c]
//
// Backward (llm.c's formula), with g = dy·γ:
//   dβ[c]   += Σ_n dy[n,c]
//   dγ[c]   += Σ_n dy[n,c]·x̂[n,c]
//   dx[n,c] += rstd_n·( g[n,c] − mean_c(g[n,·]) − x̂[n,c]·mean_c(g[n,·]·x̂[n,·]) )
//
// Numerics: the fast path makes two passes over each row — the sum, then Σ(x − mean)² — instead of one pass
// with Σx and Σx²: the row (a few KB) is still in L1 for the second pass, so it costs little, and it avoids the
// cancellation of E[x²] − E[x]² when |mean| ≫ std. Sums are kept in float in 2×16 (or 8) vector lanes, which
// is close to pairwise summation; the reference accumulates in double, so it is the more exact of the two.
// NaN or ±∞ anywhere in a row make that row's mean, rstd and outputs NaN; nothing is clamped.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// Layer normalization over the last axis of a row-major <c>[N, C]</c> batch, with learned scale γ and shift β.
/// <c>Forward</c> caches each row's mean and 1/σ for <c>Backward</c>. See the file header for the formulas.
/// </summary>
public static class LayerNorm
{
    /// <summary>Rows per thread are chosen so each thread gets at least this many elements (hand-off costs µs).</summary>
    internal const int ElementsPerThread = 32 * 1024;

    /// <summary>Normalizes each row of <paramref name="x"/>: y = (x − mean)·rstd·γ + β (fast path).</summary>
    /// <param name="x">Input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="beta">Shift β, <c>[C]</c>.</param>
    /// <param name="y">Output, <c>[N, C]</c>; must not overlap any input.</param>
    /// <param name="mean">Receives each row's mean, <c>[N]</c>.</param>
    /// <param name="rstd">Receives each row's 1/sqrt(var + eps), <c>[N]</c>.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C (the normalized axis).</param>
    /// <param name="eps">Added to the biased variance inside the square root; must be ≥ 0 and finite.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps = 1e-5f)
    {
        ValidateForward(x, gamma, beta, y, mean, rstd, n, c, eps);
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd)
        {
            int minRows = MinRowsPerThread(c);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new ForwardBody(px, pg, pb, py, pm, pr, c, eps, Streams((long)n * c), GroupsOfFour(n, c));
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                ForwardRows(px, pg, pb, py, pm, pr, 0, n, c, eps, Streams((long)n * c), GroupsOfFour(n, c));
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>, one element at a time, statistics accumulated in double.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps = 1e-5f)
    {
        ValidateForward(x, gamma, beta, y, mean, rstd, n, c, eps);
        for (int row = 0; row < n; row++)
        {
            ReadOnlySpan<float> xr = x.Slice(row * c, c);
            double sum = 0;
            for (int i = 0; i < c; i++)
            {
                sum += xr[i];
            }

            double m = sum / c;
            double sq = 0;
            for (int i = 0; i < c; i++)
            {
                double d = xr[i] - m;
                sq += d * d;
            }

            float mf = (float)m;
            float s = (float)(1.0 / Math.Sqrt(sq / c + eps));
            for (int i = 0; i < c; i++)
            {
                y[row * c + i] = (xr[i] - mf) * s * gamma[i] + beta[i];
            }

            mean[row] = mf;
            rstd[row] = s;
        }
    }

    /// <summary>
    /// Accumulates the gradients of LayerNorm: dx += …, dγ += Σ dy·x̂, dβ += Σ dy (fast path). Any of
    /// <paramref name="dx"/>, <paramref name="dgamma"/>, <paramref name="dbeta"/> may be empty to skip it.
    /// </summary>
    /// <param name="dy">Gradient of the output, <c>[N, C]</c>.</param>
    /// <param name="x">The forward input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="mean">Row means cached by <see cref="Forward"/>, <c>[N]</c>.</param>
    /// <param name="rstd">Row 1/σ cached by <see cref="Forward"/>, <c>[N]</c>.</param>
    /// <param name="dx">Accumulates the input gradient, <c>[N, C]</c>, or empty.</param>
    /// <param name="dgamma">Accumulates the γ gradient, <c>[C]</c>, or empty.</param>
    /// <param name="dbeta">Accumulates the β gradient, <c>[C]</c>, or empty.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        ValidateBackward(dy, x, gamma, mean, rstd, ReadOnlySpan<float>.Empty, dx, dgamma, dbeta, n, c, "x", "dx");
        fixed (float* pdy = dy, px = x, pg = gamma, pm = mean, pr = rstd, pdx = dx, pdg = dgamma, pdb = dbeta)
        {
            BackwardDispatch(pdy, px, pg, pm, pr, null, dx.IsEmpty ? null : pdx, dgamma.IsEmpty ? null : pdg,
                dbeta.IsEmpty ? null : pdb, n, c);
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>, per-row means accumulated in double.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        ValidateBackward(dy, x, gamma, mean, rstd, ReadOnlySpan<float>.Empty, dx, dgamma, dbeta, n, c, "x", "dx");
        BackwardReferenceCore(dy, x, gamma, mean, rstd, ReadOnlySpan<float>.Empty, dx, dgamma, dbeta, n, c);
    }

    // ---- shared with ResidualLayerNorm ----------------------------------------------------------------------

    internal static int MinRowsPerThread(int c) => Math.Max(1, ElementsPerThread / c);

    internal static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        Span<float> y, Span<float> mean, Span<float> rstd, int n, int c, float eps)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(beta.Length, c, nameof(beta), "C");
        RowChecks.MatrixDestination(y.Length, n, c, nameof(y));
        Check.Destination(mean.Length, n, nameof(mean), "N");
        Check.Destination(rstd.Length, n, nameof(rstd), "N");
        Eps(eps);
        Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), x, nameof(x));
        Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), gamma, nameof(gamma));
        Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), beta, nameof(beta));
    }

    internal static void Eps(float eps)
    {
        if (!(eps >= 0) || float.IsInfinity(eps))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), eps, $"eps must be finite and ≥ 0, got {eps}.");
        }
    }

    /// <summary>Three outputs must not overlap one input nor each other.</summary>
    internal static void Outputs3(Span<float> a, string an, Span<float> b, string bn, Span<float> d, string dn,
        ReadOnlySpan<float> input, string inputName)
    {
        Check.NoOverlap(input, inputName, a, an);
        Check.NoOverlap(input, inputName, b, bn);
        Check.NoOverlap(input, inputName, d, dn);
        Check.NoOverlap<float>(a, an, b, bn);
        Check.NoOverlap<float>(a, an, d, dn);
        Check.NoOverlap<float>(b, bn, d, dn);
    }

    internal static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> extra,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c, string xName, string dxName)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(dy.Length, n, c, nameof(dy));
        RowChecks.Matrix(x.Length, n, c, xName);
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(mean.Length, n, nameof(mean), "N");
        Check.Length(rstd.Length, n, nameof(rstd), "N");
        if (!extra.IsEmpty)
        {
            RowChecks.Matrix(extra.Length, n, c, "dsumExtra");
        }

        if (!dx.IsEmpty)
        {
            RowChecks.MatrixDestination(dx.Length, n, c, dxName);
        }

        if (!dgamma.IsEmpty)
        {
            Check.Destination(dgamma.Length, c, nameof(dgamma), "C");
        }

        if (!dbeta.IsEmpty)
        {
            Check.Destination(dbeta.Length, c, nameof(dbeta), "C");
        }

        // Every gradient output is read-modify-written, so it must be separate from all inputs and from the others.
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), dy, nameof(dy));
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), x, xName);
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), gamma, nameof(gamma));
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), mean, nameof(mean));
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), rstd, nameof(rstd));
        Outputs3(dx, dxName, dgamma, nameof(dgamma), dbeta, nameof(dbeta), extra, "dsumExtra");
    }

    internal static void BackwardReferenceCore(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> extra,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        for (int row = 0; row < n; row++)
        {
            int o = row * c;
            double gMean = 0, gxMean = 0;
            for (int i = 0; i < c; i++)
            {
                double xh = (x[o + i] - mean[row]) * rstd[row];
                double g = dy[o + i] * gamma[i];
                gMean += g;
                gxMean += g * xh;
            }

            gMean /= c;
            gxMean /= c;
            for (int i = 0; i < c; i++)
            {
                float xh = (x[o + i] - mean[row]) * rstd[row];
                if (!dbeta.IsEmpty)
                {
                    dbeta[i] += dy[o + i];
                }

                if (!dgamma.IsEmpty)
                {
                    dgamma[i] += dy[o + i] * xh;
                }

                if (!dx.IsEmpty)
                {
                    double g = dy[o + i] * gamma[i];
                    dx[o + i] += (float)(rstd[row] * (g - gMean - xh * gxMean)) + (extra.IsEmpty ? 0f : extra[o + i]);
                }
            }
        }
    }

    /// <summary>
    /// Runs the row backward over all rows. Without dγ/dβ, or on one thread, rows accumulate straight into the
    /// outputs; otherwise each thread sums its rows' dγ/dβ into a partial in the calling thread's scratch
    /// (<see cref="ThreadScratch"/>), and the partials are added in thread order, so the result is deterministic for a
    /// given thread count.
    /// </summary>
    internal static unsafe void BackwardDispatch(float* dy, float* x, float* gamma, float* mean, float* rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int n, int c)
    {
        int minRows = MinRowsPerThread(c);
        int threads = Math.Min(KernelThreads.Max, Math.Max(1, n / minRows));
        if (threads <= 1)
        {
            BackwardRows(dy, x, gamma, mean, rstd, extra, dx, dgamma, dbeta, 0, n, c);
            return;
        }

        BackwardThreaded(dy, x, gamma, mean, rstd, extra, dx, dgamma, dbeta, n, c, threads);
    }

    private static unsafe void BackwardThreaded(float* dy, float* x, float* gamma, float* mean, float* rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int n, int c, int threads)
    {
        int chunk = (n + threads - 1) / threads;
        bool partials = dgamma != null || dbeta != null;
        using var lease = ThreadScratch.Floats(partials ? threads * 2 * c : 0, out float[] scratch);
        fixed (float* part = scratch)
        {
            if (partials)
            {
                new Span<float>(part, threads * 2 * c).Clear();
            }

            var body = new BackwardBody(dy, x, gamma, mean, rstd, extra, dx, dgamma != null, dbeta != null, part, n, c, chunk);
            KernelThreads.For(threads, 1, ref body);

            for (int t = 0; t < threads && partials; t++)
            {
                if (dgamma != null)
                {
                    RowVectors.Add(dgamma, part + (long)t * 2 * c, c);
                }

                if (dbeta != null)
                {
                    RowVectors.Add(dbeta, part + ((long)t * 2 + 1) * c, c);
                }
            }
        }
    }

    private static unsafe void ForwardRows(float* x, float* gamma, float* beta, float* y, float* mean, float* rstd,
        int start, int end, int c, float eps, bool streaming, bool fourRows)
    {
        int row = start;
        for (; fourRows && row + 4 <= end; row += 4)
        {
            ForwardRows4(x, gamma, beta, y, mean, rstd, row, c, eps, streaming);
        }

        // Inputs large enough to stream y out also prefetch x's rows ahead (see RowPrefetch).
        bool prefetch = streaming && RowPrefetch.Pays(c);
        int ahead = RowPrefetch.RowsAhead(c);
        for (; row < end; row++)
        {
            long o = (long)row * c;
            if (prefetch && row + ahead < end)
            {
                RowPrefetch.Row(x + o + (ahead * (long)c), c);
            }

            float m = Sum(x + o, c) / c;
            float s = 1f / MathF.Sqrt(SquaredDeviation(x + o, c, m) / c + eps);
            Normalize(x + o, gamma, beta, y + o, c, m, s, streaming);
            mean[row] = m;
            rstd[row] = s;
        }

        if (streaming)
        {
            Sse.StoreFence();
        }
    }

    /// <summary>
    /// Whether an output of this many floats (the whole call's, whatever each thread's share) is written with
    /// non-temporal (streaming) stores: once it is several times the L2 caches, it will not be in cache when read anyway,
    /// and an ordinary store first reads each line it writes from memory, a third stream of traffic besides reading x
    /// and writing y. LayerNorm forward on 4096×768 (12.6 MB out) measured ~1,280 µs with ordinary stores.
    /// </summary>
    internal static bool Streams(long floats) => Avx512F.IsSupported && floats * sizeof(float) >= StreamingMinBytes;

    private const long StreamingMinBytes = 8L << 20;

    /// <summary>
    /// The backward prefetches the next group's rows (see <see cref="BackwardRows"/>) when a thread's rows of dy, x and
    /// dx exceed this, twice the L2 of one Zen 4 or Zen 5 core. Below it they come from L2 or close by, and the
    /// prefetches cost more than they save (measured when they asked for the row's own dx: 512×256, 1.5 MB, 3–8 %
    /// slower with them; 512×768, 4.7 MB, 10–20 % faster).
    /// </summary>
    private const long PrefetchMinBytes = 2L << 20;

    /// <summary>
    /// <see cref="Normalize(float*, float*, float*, float*, int, float, float)"/>; when <paramref name="streaming"/>
    /// (see <see cref="Streams"/>), y's 64-byte-aligned whole vectors are stored non-temporally (call
    /// <see cref="Sse.StoreFence"/> after the last row).
    /// </summary>
    internal static unsafe void Normalize(float* x, float* gamma, float* beta, float* y, int c, float mean, float rstd, bool streaming)
    {
        if (!streaming)
        {
            Normalize(x, gamma, beta, y, c, mean, rstd);
            return;
        }

        int head = Math.Min(c, (int)((64 - ((nint)y & 63)) & 63) / sizeof(float));
        Normalize(x, gamma, beta, y, head, mean, rstd);
        int i = head;
        Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(rstd);
        for (; i <= c - 16; i += 16)
        {
            Vector512<float> xh = (Vector512.Load(x + i) - m) * s;
            Avx512F.StoreAlignedNonTemporal(y + i, Vector512.FusedMultiplyAdd(xh, Vector512.Load(gamma + i), Vector512.Load(beta + i)));
        }

        Normalize(x + i, gamma + i, beta + i, y + i, c - i, mean, rstd);
    }

    // ---- row kernels: Vector512 main loop, Vector256 for what is left (or the main loop without AVX-512), scalar tail

    internal static unsafe float Sum(float* x, int c)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            // Four independent accumulators: the adds' latency, not bandwidth, limits a row that sits in L1.
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, a2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero;
            for (; i <= c - 64; i += 64)
            {
                a0 += Vector512.Load(x + i);
                a1 += Vector512.Load(x + i + 16);
                a2 += Vector512.Load(x + i + 32);
                a3 += Vector512.Load(x + i + 48);
            }

            for (; i <= c - 16; i += 16)
            {
                a0 += Vector512.Load(x + i);
            }

            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
            for (; i <= c - 16; i += 16)
            {
                a0 += Vector256.Load(x + i);
                a1 += Vector256.Load(x + i + 8);
            }

            if (i <= c - 8)
            {
                a0 += Vector256.Load(x + i);
                i += 8;
            }

            s += Vector256.Sum(a0 + a1);
        }

        for (; i < c; i++)
        {
            s += x[i];
        }

        return s;
    }

    /// <summary>
    /// Whether the forward pass takes rows four at a time (<see cref="ForwardRows4"/>), decided on the caller's whole
    /// input as <see cref="Softmax"/> decides its interleaving: AVX-512, C a multiple of 16 and at most 256, and at most
    /// 256K floats of input, so that it sits in L2. Measured on one Zen 4 core: 32×256 2.4 → 1.8 µs, 256×256 ~15 → ~14
    /// µs; but four interleaved rows are four streams to prefetch from L3 or memory (4096×256 went from ~300 to ~360 µs),
    /// and rows of 768 floats have enough independent work of their own (no gain).
    /// </summary>
    internal static bool GroupsOfFour(long n, int c) => Vector512.IsHardwareAccelerated && c % 16 == 0 && c <= 256 && n * c <= 256 * 1024;

    /// <summary>
    /// Rows row .. row + 3 of the forward pass together (C a multiple of 16, AVX-512; see <see cref="GroupsOfFour"/>): the same results as four
    /// one-row passes, bit for bit (see Sums4).
    /// </summary>
    internal static unsafe void ForwardRows4(float* x, float* gamma, float* beta, float* y, float* mean, float* rstd,
        int row, int c, float eps, bool streaming)
    {
        long o = (long)row * c;
        Sums4(x + o, c, out float s0, out float s1, out float s2, out float s3);
        float m0 = s0 / c, m1 = s1 / c, m2 = s2 / c, m3 = s3 / c;
        SquaredDeviations4(x + o, c, m0, m1, m2, m3, out float q0, out float q1, out float q2, out float q3);
        float r0 = 1f / MathF.Sqrt(q0 / c + eps), r1 = 1f / MathF.Sqrt(q1 / c + eps);
        float r2 = 1f / MathF.Sqrt(q2 / c + eps), r3 = 1f / MathF.Sqrt(q3 / c + eps);
        Normalize(x + o, gamma, beta, y + o, c, m0, r0, streaming);
        Normalize(x + o + c, gamma, beta, y + o + c, c, m1, r1, streaming);
        Normalize(x + o + (2 * c), gamma, beta, y + o + (2 * c), c, m2, r2, streaming);
        Normalize(x + o + (3 * c), gamma, beta, y + o + (3 * c), c, m3, r3, streaming);
        mean[row] = m0;
        mean[row + 1] = m1;
        mean[row + 2] = m2;
        mean[row + 3] = m3;
        rstd[row] = r0;
        rstd[row + 1] = r1;
        rstd[row + 2] = r2;
        rstd[row + 3] = r3;
    }

    // Sum and SquaredDeviation of four consecutive rows at once, for C a multiple of 16 with AVX-512. Each row is
    // accumulated exactly as the one-row functions do it (four accumulators over 64-float chunks, the rest into the
    // first, the same final reduction), so the results are the same bit for bit; but the four rows' latency chains
    // (sum → reduce → mean → squared deviations → reduce → 1/σ) overlap instead of running one after another.
    // LayerNorm forward 64×256 took ~4.7 µs one row at a time.
    private static unsafe void Sums4(float* x, int c, out float s0, out float s1, out float s2, out float s3)
    {
        float* x1 = x + c, x2 = x1 + c, x3 = x2 + c;
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        Vector512<float> a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int i = 0;
        for (; i <= c - 64; i += 64)
        {
            a00 += Vector512.Load(x + i);
            a01 += Vector512.Load(x + i + 16);
            a02 += Vector512.Load(x + i + 32);
            a03 += Vector512.Load(x + i + 48);
            a10 += Vector512.Load(x1 + i);
            a11 += Vector512.Load(x1 + i + 16);
            a12 += Vector512.Load(x1 + i + 32);
            a13 += Vector512.Load(x1 + i + 48);
            a20 += Vector512.Load(x2 + i);
            a21 += Vector512.Load(x2 + i + 16);
            a22 += Vector512.Load(x2 + i + 32);
            a23 += Vector512.Load(x2 + i + 48);
            a30 += Vector512.Load(x3 + i);
            a31 += Vector512.Load(x3 + i + 16);
            a32 += Vector512.Load(x3 + i + 32);
            a33 += Vector512.Load(x3 + i + 48);
        }

        for (; i < c; i += 16)
        {
            a00 += Vector512.Load(x + i);
            a10 += Vector512.Load(x1 + i);
            a20 += Vector512.Load(x2 + i);
            a30 += Vector512.Load(x3 + i);
        }

        s0 = RowVectors.SumAcross((a00 + a01) + (a02 + a03)).ToScalar();
        s1 = RowVectors.SumAcross((a10 + a11) + (a12 + a13)).ToScalar();
        s2 = RowVectors.SumAcross((a20 + a21) + (a22 + a23)).ToScalar();
        s3 = RowVectors.SumAcross((a30 + a31) + (a32 + a33)).ToScalar();
    }

    private static unsafe void SquaredDeviations4(float* x, int c, float mean0, float mean1, float mean2, float mean3,
        out float q0, out float q1, out float q2, out float q3)
    {
        float* x1 = x + c, x2 = x1 + c, x3 = x2 + c;
        Vector512<float> m0 = Vector512.Create(mean0), m1 = Vector512.Create(mean1), m2 = Vector512.Create(mean2), m3 = Vector512.Create(mean3);
        Vector512<float> z = Vector512<float>.Zero;
        Vector512<float> a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        Vector512<float> a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int i = 0;
        for (; i <= c - 64; i += 64)
        {
            a00 = Square(Vector512.Load(x + i) - m0, a00);
            a01 = Square(Vector512.Load(x + i + 16) - m0, a01);
            a02 = Square(Vector512.Load(x + i + 32) - m0, a02);
            a03 = Square(Vector512.Load(x + i + 48) - m0, a03);
            a10 = Square(Vector512.Load(x1 + i) - m1, a10);
            a11 = Square(Vector512.Load(x1 + i + 16) - m1, a11);
            a12 = Square(Vector512.Load(x1 + i + 32) - m1, a12);
            a13 = Square(Vector512.Load(x1 + i + 48) - m1, a13);
            a20 = Square(Vector512.Load(x2 + i) - m2, a20);
            a21 = Square(Vector512.Load(x2 + i + 16) - m2, a21);
            a22 = Square(Vector512.Load(x2 + i + 32) - m2, a22);
            a23 = Square(Vector512.Load(x2 + i + 48) - m2, a23);
            a30 = Square(Vector512.Load(x3 + i) - m3, a30);
            a31 = Square(Vector512.Load(x3 + i + 16) - m3, a31);
            a32 = Square(Vector512.Load(x3 + i + 32) - m3, a32);
            a33 = Square(Vector512.Load(x3 + i + 48) - m3, a33);
        }

        for (; i < c; i += 16)
        {
            a00 = Square(Vector512.Load(x + i) - m0, a00);
            a10 = Square(Vector512.Load(x1 + i) - m1, a10);
            a20 = Square(Vector512.Load(x2 + i) - m2, a20);
            a30 = Square(Vector512.Load(x3 + i) - m3, a30);
        }

        q0 = RowVectors.SumAcross((a00 + a01) + (a02 + a03)).ToScalar();
        q1 = RowVectors.SumAcross((a10 + a11) + (a12 + a13)).ToScalar();
        q2 = RowVectors.SumAcross((a20 + a21) + (a22 + a23)).ToScalar();
        q3 = RowVectors.SumAcross((a30 + a31) + (a32 + a33)).ToScalar();
    }

    // acc + d² in one rounding, as SquaredDeviation does it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Square(Vector512<float> d, Vector512<float> acc) => Vector512.FusedMultiplyAdd(d, d, acc);

    internal static unsafe float SquaredDeviation(float* x, int c, float mean)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            var m = Vector512.Create(mean);
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, a2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero;
            for (; i <= c - 64; i += 64)
            {
                Vector512<float> d0 = Vector512.Load(x + i) - m, d1 = Vector512.Load(x + i + 16) - m;
                Vector512<float> d2 = Vector512.Load(x + i + 32) - m, d3 = Vector512.Load(x + i + 48) - m;
                a0 = Vector512.FusedMultiplyAdd(d0, d0, a0);
                a1 = Vector512.FusedMultiplyAdd(d1, d1, a1);
                a2 = Vector512.FusedMultiplyAdd(d2, d2, a2);
                a3 = Vector512.FusedMultiplyAdd(d3, d3, a3);
            }

            for (; i <= c - 16; i += 16)
            {
                Vector512<float> d0 = Vector512.Load(x + i) - m;
                a0 = Vector512.FusedMultiplyAdd(d0, d0, a0);
            }

            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            var m = Vector256.Create(mean);
            Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
            for (; i <= c - 16; i += 16)
            {
                Vector256<float> d0 = Vector256.Load(x + i) - m, d1 = Vector256.Load(x + i + 8) - m;
                a0 = Vector256.FusedMultiplyAdd(d0, d0, a0);
                a1 = Vector256.FusedMultiplyAdd(d1, d1, a1);
            }

            if (i <= c - 8)
            {
                Vector256<float> d0 = Vector256.Load(x + i) - m;
                a0 = Vector256.FusedMultiplyAdd(d0, d0, a0);
                i += 8;
            }

            s += Vector256.Sum(a0 + a1);
        }

        for (; i < c; i++)
        {
            float d = x[i] - mean;
            s += d * d;
        }

        return s;
    }

    /// <summary>y = (x − mean)·rstd·γ + β for one row.</summary>
    internal static unsafe void Normalize(float* x, float* gamma, float* beta, float* y, int c, float mean, float rstd)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(rstd);
            for (; i <= c - 16; i += 16)
            {
                Vector512<float> xh = (Vector512.Load(x + i) - m) * s;
                Vector512.FusedMultiplyAdd(xh, Vector512.Load(gamma + i), Vector512.Load(beta + i)).Store(y + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(rstd);
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> xh = (Vector256.Load(x + i) - m) * s;
                Vector256.FusedMultiplyAdd(xh, Vector256.Load(gamma + i), Vector256.Load(beta + i)).Store(y + i);
            }
        }

        for (; i < c; i++)
        {
            y[i] = MathF.FusedMultiplyAdd((x[i] - mean) * rstd, gamma[i], beta[i]);
        }
    }

    /// <summary>
    /// Rows [start, end) of the backward. Each row takes two passes, the first for mean(g) and mean(g·x̂), the second
    /// writing all gradients. With dx wanted and AVX-512, rows go four at a time: the first pass of each of the four
    /// rows, one after the other, then the second pass of all four in one loop (<see cref="UpdateRows4"/>), which
    /// loads γ, dγ and dβ once per 16 columns for four rows instead of once per row. One row at a time, the loop was
    /// bound by those loads and stores, not by memory: 4096×768 took ~1.9× a plain stream with the same traffic
    /// (dx += dy·x). Where the rows do not fit in L2, the first pass also asks for the next group's dy, x and dx
    /// (4096×768: another 5–14 % off; eight rows ahead gained less). The first pass reads each row in order, which the
    /// hardware prefetchers follow; reading the four rows side by side lost 10–40 % from L3 (4096×256). Every row
    /// still sees the same operations in the same order, so the results are bit for bit those of one row at a time,
    /// and dγ, dβ still accumulate in row order. Null pointers skip a gradient; <paramref name="extra"/> (may be null)
    /// is added to dx as is.
    /// </summary>
    internal static unsafe void BackwardRows(float* dy, float* x, float* gamma, float* mean, float* rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int start, int end, int c)
    {
        int row = start;
        if (dx != null && Vector512.IsHardwareAccelerated && c >= 16)
        {
            float* sums = stackalloc float[8];
            bool prefetch = (long)(end - start) * c * 3 * sizeof(float) > PrefetchMinBytes;
            for (; row + 4 <= end; row += 4)
            {
                long o = (long)row * c;
                for (int j = 0; j < 4; j++)
                {
                    long oj = o + (long)j * c;
                    RowDots(dy + oj, x + oj, gamma, mean[row + j], rstd[row + j], c, out sums[2 * j], out sums[2 * j + 1],
                        prefetch ? dx + oj : null);
                }

                if (dgamma != null && dbeta != null && extra == null)
                {
                    UpdateRows4<AllGradients>(dy + o, x + o, gamma, mean + row, rstd + row, null, dx + o, dgamma, dbeta, c, sums);
                }
                else
                {
                    UpdateRows4<AnyGradients>(dy + o, x + o, gamma, mean + row, rstd + row, extra == null ? null : extra + o,
                        dx + o, dgamma, dbeta, c, sums);
                }
            }
        }

        for (; row < end; row++)
        {
            long o = (long)row * c;
            BackwardRow(dy + o, x + o, gamma, mean[row], rstd[row], extra == null ? null : extra + o,
                dx == null ? null : dx + o, dgamma, dbeta, c);
        }
    }

    /// <summary>
    /// The second pass over four consecutive rows (see <see cref="BackwardRows"/>): pointers at the first row, which
    /// <paramref name="mean"/> and <paramref name="rstd"/> also start at; <paramref name="sums"/>[2j] and [2j + 1] hold
    /// row j's Σ g and Σ g·x̂. dβ and dγ take rows 0, 1, 2, 3 in turn in registers, then go back to memory once. dx is
    /// wanted; dγ, dβ and <paramref name="extra"/> may be null unless <typeparamref name="TGradients"/> is
    /// <see cref="AllGradients"/>. Rows 1–3 are addressed as offsets from row 0, so that the loop needs fewer registers
    /// for pointers.
    /// </summary>
    private static unsafe void UpdateRows4<TGradients>(float* dy, float* x, float* gamma, float* mean, float* rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int c, float* sums)
        where TGradients : struct, IGradients
    {
        nint c1 = c, c2 = 2 * (nint)c, c3 = 3 * (nint)c;
        Vector512<float> m0 = Vector512.Create(mean[0]), s0 = Vector512.Create(rstd[0]);
        Vector512<float> m1 = Vector512.Create(mean[1]), s1 = Vector512.Create(rstd[1]);
        Vector512<float> m2 = Vector512.Create(mean[2]), s2 = Vector512.Create(rstd[2]);
        Vector512<float> m3 = Vector512.Create(mean[3]), s3 = Vector512.Create(rstd[3]);
        Vector512<float> a0 = Vector512.Create(sums[0] / c), b0 = Vector512.Create(sums[1] / c);
        Vector512<float> a1 = Vector512.Create(sums[2] / c), b1 = Vector512.Create(sums[3] / c);
        Vector512<float> a2 = Vector512.Create(sums[4] / c), b2 = Vector512.Create(sums[5] / c);
        Vector512<float> a3 = Vector512.Create(sums[6] / c), b3 = Vector512.Create(sums[7] / c);
        int i = 0;
        for (; i <= c - 16; i += 16)
        {
            Vector512<float> gm = Vector512.Load(gamma + i);
            Vector512<float> d0 = Vector512.Load(dy + i), xh0 = (Vector512.Load(x + i) - m0) * s0;
            Vector512<float> d1 = Vector512.Load(dy + c1 + i), xh1 = (Vector512.Load(x + c1 + i) - m1) * s1;
            Vector512<float> d2 = Vector512.Load(dy + c2 + i), xh2 = (Vector512.Load(x + c2 + i) - m2) * s2;
            Vector512<float> d3 = Vector512.Load(dy + c3 + i), xh3 = (Vector512.Load(x + c3 + i) - m3) * s3;
            if (TGradients.All || dbeta != null)
            {
                (Vector512.Load(dbeta + i) + d0 + d1 + d2 + d3).Store(dbeta + i);
            }

            if (TGradients.All || dgamma != null)
            {
                Vector512<float> acc = Vector512.FusedMultiplyAdd(d0, xh0, Vector512.Load(dgamma + i));
                acc = Vector512.FusedMultiplyAdd(d1, xh1, acc);
                acc = Vector512.FusedMultiplyAdd(d2, xh2, acc);
                Vector512.FusedMultiplyAdd(d3, xh3, acc).Store(dgamma + i);
            }

            Vector512<float> dx0 = Vector512.Load(dx + i), dx1 = Vector512.Load(dx + c1 + i);
            Vector512<float> dx2 = Vector512.Load(dx + c2 + i), dx3 = Vector512.Load(dx + c3 + i);
            if (!TGradients.All && extra != null)
            {
                dx0 += Vector512.Load(extra + i);
                dx1 += Vector512.Load(extra + c1 + i);
                dx2 += Vector512.Load(extra + c2 + i);
                dx3 += Vector512.Load(extra + c3 + i);
            }

            Vector512.FusedMultiplyAdd(s0, d0 * gm - a0 - xh0 * b0, dx0).Store(dx + i);
            Vector512.FusedMultiplyAdd(s1, d1 * gm - a1 - xh1 * b1, dx1).Store(dx + c1 + i);
            Vector512.FusedMultiplyAdd(s2, d2 * gm - a2 - xh2 * b2, dx2).Store(dx + c2 + i);
            Vector512.FusedMultiplyAdd(s3, d3 * gm - a3 - xh3 * b3, dx3).Store(dx + c3 + i);
        }

        for (int j = 0; j < 4 && i < c; j++)
        {
            long o = (long)j * c;
            UpdateTail(i, dy + o, x + o, gamma, mean[j], rstd[j], extra == null ? null : extra + o, dx + o, dgamma, dbeta, c,
                sums[2 * j] / c, sums[2 * j + 1] / c);
        }
    }

    /// <summary>
    /// One row of the backward (see <see cref="BackwardRows"/>). Null pointers skip a gradient; <paramref name="extra"/>
    /// (may be null) is added to dx as is.
    /// </summary>
    internal static unsafe void BackwardRow(float* dy, float* x, float* gamma, float mean, float rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int c)
    {
        float gMean = 0, gxMean = 0;
        if (dx != null)
        {
            RowDots(dy, x, gamma, mean, rstd, c, out float g, out float gx, null);
            gMean = g / c;
            gxMean = gx / c;
        }

        UpdateRow(dy, x, gamma, mean, rstd, extra, dx, dgamma, dbeta, c, gMean, gxMean);
    }

    /// <summary>The second pass over a row: dβ += dy, dγ += dy·x̂, dx += rstd·(g − mean(g) − x̂·mean(g·x̂)) + extra.</summary>
    private static unsafe void UpdateRow(float* dy, float* x, float* gamma, float mean, float rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int c, float gMean, float gxMean)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(rstd);
            Vector512<float> a = Vector512.Create(gMean), b = Vector512.Create(gxMean);
            for (; i <= c - 16; i += 16)
            {
                Vector512<float> d = Vector512.Load(dy + i);
                Vector512<float> xh = (Vector512.Load(x + i) - m) * s;
                if (dbeta != null)
                {
                    (Vector512.Load(dbeta + i) + d).Store(dbeta + i);
                }

                if (dgamma != null)
                {
                    Vector512.FusedMultiplyAdd(d, xh, Vector512.Load(dgamma + i)).Store(dgamma + i);
                }

                if (dx != null)
                {
                    Vector512<float> g = d * Vector512.Load(gamma + i);
                    Vector512<float> acc = Vector512.Load(dx + i);
                    if (extra != null)
                    {
                        acc += Vector512.Load(extra + i);
                    }

                    Vector512.FusedMultiplyAdd(s, g - a - xh * b, acc).Store(dx + i);
                }
            }
        }

        UpdateTail(i, dy, x, gamma, mean, rstd, extra, dx, dgamma, dbeta, c, gMean, gxMean);
    }

    // The second pass from element i on: 256-bit vectors, then scalars.
    private static unsafe void UpdateTail(int i, float* dy, float* x, float* gamma, float mean, float rstd, float* extra,
        float* dx, float* dgamma, float* dbeta, int c, float gMean, float gxMean)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(rstd);
            Vector256<float> a = Vector256.Create(gMean), b = Vector256.Create(gxMean);
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> d = Vector256.Load(dy + i);
                Vector256<float> xh = (Vector256.Load(x + i) - m) * s;
                if (dbeta != null)
                {
                    (Vector256.Load(dbeta + i) + d).Store(dbeta + i);
                }

                if (dgamma != null)
                {
                    Vector256.FusedMultiplyAdd(d, xh, Vector256.Load(dgamma + i)).Store(dgamma + i);
                }

                if (dx != null)
                {
                    Vector256<float> g = d * Vector256.Load(gamma + i);
                    Vector256<float> acc = Vector256.Load(dx + i);
                    if (extra != null)
                    {
                        acc += Vector256.Load(extra + i);
                    }

                    Vector256.FusedMultiplyAdd(s, g - a - xh * b, acc).Store(dx + i);
                }
            }
        }

        for (; i < c; i++)
        {
            float d = dy[i];
            float xh = (x[i] - mean) * rstd;
            if (dbeta != null)
            {
                dbeta[i] += d;
            }

            if (dgamma != null)
            {
                dgamma[i] = MathF.FusedMultiplyAdd(d, xh, dgamma[i]);
            }

            if (dx != null)
            {
                float acc = dx[i] + (extra == null ? 0f : extra[i]);
                dx[i] = MathF.FusedMultiplyAdd(rstd, d * gamma[i] - gMean - xh * gxMean, acc);
            }
        }
    }

    /// <summary>
    /// Σ g and Σ g·x̂ over a row, g = dy·γ, x̂ = (x − mean)·rstd. If <paramref name="prefetch"/> is not null (the row's
    /// dx), it also asks for the lines of dy, x and dx four rows on, which the next group of four will read (a prefetch
    /// past the last row is harmless: it never faults).
    /// </summary>
    private static unsafe void RowDots(float* dy, float* x, float* gamma, float mean, float rstd, int c, out float gSum, out float gxSum,
        float* prefetch)
    {
        int i = 0;
        float sg = 0, sgx = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(rstd);
            Vector512<float> ag = Vector512<float>.Zero, agx = Vector512<float>.Zero;
            nint ahead = 4 * (nint)c;
            for (; i <= c - 16; i += 16)
            {
                Vector512<float> g = Vector512.Load(dy + i) * Vector512.Load(gamma + i);
                Vector512<float> xh = (Vector512.Load(x + i) - m) * s;
                ag += g;
                agx = Vector512.FusedMultiplyAdd(g, xh, agx);
                if (prefetch != null)
                {
                    Sse.Prefetch0(prefetch + ahead + i);
                    Sse.Prefetch0(dy + ahead + i);
                    Sse.Prefetch0(x + ahead + i);
                }
            }

            sg = Vector512.Sum(ag);
            sgx = Vector512.Sum(agx);
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(rstd);
            Vector256<float> ag = Vector256<float>.Zero, agx = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> g = Vector256.Load(dy + i) * Vector256.Load(gamma + i);
                Vector256<float> xh = (Vector256.Load(x + i) - m) * s;
                ag += g;
                agx = Vector256.FusedMultiplyAdd(g, xh, agx);
            }

            sg += Vector256.Sum(ag);
            sgx += Vector256.Sum(agx);
        }

        for (; i < c; i++)
        {
            float g = dy[i] * gamma[i];
            sg += g;
            sgx += g * ((x[i] - mean) * rstd);
        }

        gSum = sg;
        gxSum = sgx;
    }

    private readonly unsafe struct ForwardBody(float* x, float* gamma, float* beta, float* y, float* mean, float* rstd, int c, float eps,
        bool streaming, bool fourRows) : IRangeBody
    {
        public void Run(int start, int end) => ForwardRows(x, gamma, beta, y, mean, rstd, start, end, c, eps, streaming, fourRows);
    }

    /// <summary>
    /// Which gradients <see cref="UpdateRows4{TGradients}"/> writes. The JIT compiles it once per type and drops the
    /// checks that a constant answers: with <see cref="AllGradients"/> (LayerNorm's usual call) the loop has no null
    /// checks and spills less: the backward alone 2–14 % faster from 64×768 to 4096×768 (one process).
    /// </summary>
    private interface IGradients
    {
        /// <summary>True: dγ and dβ are wanted and there is no extra term, so nothing needs checking.</summary>
        static abstract bool All { get; }
    }

    /// <summary>dγ and dβ wanted, no extra term.</summary>
    private readonly struct AllGradients : IGradients
    {
        public static bool All => true;
    }

    /// <summary>Any of dγ, dβ and the extra term may be null: checked in the loop.</summary>
    private readonly struct AnyGradients : IGradients
    {
        public static bool All => false;
    }

    /// <summary>Thread t's rows; its dγ/dβ partials go to slots 2t and 2t + 1 of <c>part</c>.</summary>
    private readonly unsafe struct BackwardBody(float* dy, float* x, float* gamma, float* mean, float* rstd, float* extra,
        float* dx, bool hasGamma, bool hasBeta, float* part, int n, int c, int chunk) : IRangeBody
    {
        public void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                float* pg = hasGamma ? part + (long)t * 2 * c : null;
                float* pb = hasBeta ? part + ((long)t * 2 + 1) * c : null;
                BackwardRows(dy, x, gamma, mean, rstd, extra, dx, pg, pb, t * chunk, Math.Min(n, (t + 1) * chunk), c);
            }
        }
    }
}

/// <summary>
/// Shape checks for the row-wise kernels (LayerNorm, RMSNorm, BatchNorm, softmax, …) that build the "N·C = 4·4"
/// text only when the check fails, so a valid call allocates nothing.
/// </summary>
internal static class RowChecks
{
    public static void Matrix(int actual, int n, int c, string name)
    {
        if (actual != (long)n * c)
        {
            Check.Length(actual, (long)n * c, name, $"N·C = {n}·{c}");
        }
    }

    public static void MatrixDestination(int actual, int n, int c, string name)
    {
        if (actual < (long)n * c)
        {
            Check.Destination(actual, (long)n * c, name, $"N·C = {n}·{c}");
        }
    }}
