// RMSNorm over the last axis.   x, y: [N, C]   γ: [C]   rstd: [N] (cached for backward)
//
//   rstd_n  = 1 / sqrt( (1/C) Σ_c x[n,c]² + eps )
//   x̂[n,c] = x[n,c]·rstd_n
//   y[n,c]  = x̂[n,c]·γ[c]
//
// Backward, with g = dy·γ:
//   dγ[c]   += Σ_n dy[n,c]·x̂[n,c]
//   dx[n,c] += rstd_n·( g[n,c] − x̂[n,c]·mean_c(g[n,·]·x̂[n,·]) )
//
// Unlike LayerNorm there is no mean subtraction (so RMSNorm is scale- but not shift-invariant) and no β.
// Numerics: one pass for Σx² in float vector lanes (no cancellation is possible: every term is ≥ 0); the
// reference accumulates in double. NaN or ±∞ in a row make that row's rstd and outputs NaN (or 0·∞ = NaN).
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Root-mean-square normalization over the last axis of a row-major <c>[N, C]</c> batch, with learned scale γ
/// (Zhang &amp; Sennrich 2019). <c>Forward</c> caches each row's 1/rms for <c>Backward</c>.
/// </summary>
public static class RmsNorm
{
    /// <summary>y = x·rstd·γ with rstd = 1/sqrt(mean(x²) + eps) per row (fast path).</summary>
    /// <param name="x">Input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="y">Output, <c>[N, C]</c>; must not overlap any input.</param>
    /// <param name="rstd">Receives each row's 1/sqrt(mean(x²) + eps), <c>[N]</c>.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C (the normalized axis).</param>
    /// <param name="eps">Added to mean(x²) inside the square root; must be ≥ 0 and finite.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, Span<float> y, Span<float> rstd,
        int n, int c, float eps = 1e-6f)
    {
        ValidateForward(x, gamma, y, rstd, n, c, eps);
        fixed (float* px = x, pg = gamma, py = y, pr = rstd)
        {
            int minRows = LayerNorm.MinRowsPerThread(c);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new ForwardBody(px, pg, py, pr, c, eps);
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                ForwardRows(px, pg, py, pr, 0, n, c, eps);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>, mean(x²) accumulated in double.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, Span<float> y, Span<float> rstd,
        int n, int c, float eps = 1e-6f)
    {
        ValidateForward(x, gamma, y, rstd, n, c, eps);
        for (int row = 0; row < n; row++)
        {
            double sq = 0;
            for (int i = 0; i < c; i++)
            {
                sq += (double)x[row * c + i] * x[row * c + i];
            }

            float s = (float)(1.0 / Math.Sqrt(sq / c + eps));
            for (int i = 0; i < c; i++)
            {
                y[row * c + i] = x[row * c + i] * s * gamma[i];
            }

            rstd[row] = s;
        }
    }

    /// <summary>
    /// Accumulates the gradients of RMSNorm: dx += …, dγ += Σ dy·x̂ (fast path). <paramref name="dx"/> or
    /// <paramref name="dgamma"/> may be empty to skip it.
    /// </summary>
    /// <param name="dy">Gradient of the output, <c>[N, C]</c>.</param>
    /// <param name="x">The forward input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="rstd">Row 1/rms cached by <see cref="Forward"/>, <c>[N]</c>.</param>
    /// <param name="dx">Accumulates the input gradient, <c>[N, C]</c>, or empty.</param>
    /// <param name="dgamma">Accumulates the γ gradient, <c>[C]</c>, or empty.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, int n, int c)
    {
        ValidateBackward(dy, x, gamma, rstd, dx, dgamma, n, c);
        fixed (float* pdy = dy, px = x, pg = gamma, pr = rstd, pdx = dx, pdg = dgamma)
        {
            float* odx = dx.IsEmpty ? null : pdx, odg = dgamma.IsEmpty ? null : pdg;
            int threads = Math.Min(KernelThreads.Max, Math.Max(1, n / LayerNorm.MinRowsPerThread(c)));
            if (threads <= 1)
            {
                BackwardRows(pdy, px, pg, pr, odx, odg, 0, n, c);
            }
            else
            {
                BackwardThreaded(pdy, px, pg, pr, odx, odg, n, c, threads);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>, the row mean of g·x̂ accumulated in double.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, int n, int c)
    {
        ValidateBackward(dy, x, gamma, rstd, dx, dgamma, n, c);
        for (int row = 0; row < n; row++)
        {
            int o = row * c;
            double gx = 0;
            for (int i = 0; i < c; i++)
            {
                gx += (double)dy[o + i] * gamma[i] * (x[o + i] * rstd[row]);
            }

            gx /= c;
            for (int i = 0; i < c; i++)
            {
                float xh = x[o + i] * rstd[row];
                if (!dgamma.IsEmpty)
                {
                    dgamma[i] += dy[o + i] * xh;
                }

                if (!dx.IsEmpty)
                {
                    dx[o + i] += (float)(rstd[row] * ((double)dy[o + i] * gamma[i] - xh * gx));
                }
            }
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, Span<float> y, Span<float> rstd,
        int n, int c, float eps)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        RowChecks.MatrixDestination(y.Length, n, c, nameof(y));
        Check.Destination(rstd.Length, n, nameof(rstd), "N");
        LayerNorm.Eps(eps);
        Check.NoOverlap(x, nameof(x), y, nameof(y));
        Check.NoOverlap(gamma, nameof(gamma), y, nameof(y));
        Check.NoOverlap(x, nameof(x), rstd, nameof(rstd));
        Check.NoOverlap(gamma, nameof(gamma), rstd, nameof(rstd));
        Check.NoOverlap<float>(y, nameof(y), rstd, nameof(rstd));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(dy.Length, n, c, nameof(dy));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(rstd.Length, n, nameof(rstd), "N");
        if (!dx.IsEmpty)
        {
            RowChecks.MatrixDestination(dx.Length, n, c, nameof(dx));
        }

        if (!dgamma.IsEmpty)
        {
            Check.Destination(dgamma.Length, c, nameof(dgamma), "C");
        }

        Span<float> none = Span<float>.Empty;
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), none, "-", dy, nameof(dy));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), none, "-", x, nameof(x));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), none, "-", gamma, nameof(gamma));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), none, "-", rstd, nameof(rstd));
    }

    private static unsafe void ForwardRows(float* x, float* gamma, float* y, float* rstd, int start, int end, int c, float eps)
    {
        for (int row = start; row < end; row++)
        {
            long o = (long)row * c;
            float s = 1f / MathF.Sqrt(SumSquares(x + o, c) / c + eps);
            Scale(x + o, gamma, y + o, c, s);
            rstd[row] = s;
        }
    }

    private readonly unsafe struct ForwardBody(float* x, float* gamma, float* y, float* rstd, int c, float eps) : IRangeBody
    {
        public void Run(int start, int end) => ForwardRows(x, gamma, y, rstd, start, end, c, eps);
    }

    /// <summary>Thread t's rows; its dγ partial (when <c>part</c> is not null) goes to slot t.</summary>
    private readonly unsafe struct BackwardBody(float* dy, float* x, float* gamma, float* rstd, float* dx, float* part,
        int n, int c, int chunk) : IRangeBody
    {
        public void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                BackwardRows(dy, x, gamma, rstd, dx, part == null ? null : part + (long)t * c, t * chunk,
                    Math.Min(n, (t + 1) * chunk), c);
            }
        }
    }

    // Each thread sums its rows' dγ into a partial in the calling thread's scratch (ThreadScratch); partials are added in thread order (deterministic).
    private static unsafe void BackwardThreaded(float* dy, float* x, float* gamma, float* rstd, float* dx, float* dgamma,
        int n, int c, int threads)
    {
        int chunk = (n + threads - 1) / threads;
        using var lease = ThreadScratch.Floats(dgamma != null ? threads * c : 0, out float[] scratch);
        fixed (float* part = scratch)
        {
            if (dgamma != null)
            {
                new Span<float>(part, threads * c).Clear();
            }

            var body = new BackwardBody(dy, x, gamma, rstd, dx, dgamma == null ? null : part, n, c, chunk);
            KernelThreads.For(threads, 1, ref body);

            for (int t = 0; t < threads && dgamma != null; t++)
            {
                for (int i = 0; i < c; i++)
                {
                    dgamma[i] += part[(long)t * c + i];
                }
            }
        }
    }

    private static unsafe void BackwardRows(float* dy, float* x, float* gamma, float* rstd, float* dx, float* dgamma,
        int start, int end, int c)
    {
        for (int row = start; row < end; row++)
        {
            long o = (long)row * c;
            BackwardRow(dy + o, x + o, gamma, rstd[row], dx == null ? null : dx + o, dgamma, c);
        }
    }

    private static unsafe float SumSquares(float* x, int c)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            // Four independent accumulators: the FMAs' latency, not bandwidth, limits a row that sits in L1.
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero, a2 = Vector512<float>.Zero, a3 = Vector512<float>.Zero;
            for (; i <= c - 64; i += 64)
            {
                Vector512<float> v0 = Vector512.Load(x + i), v1 = Vector512.Load(x + i + 16);
                Vector512<float> v2 = Vector512.Load(x + i + 32), v3 = Vector512.Load(x + i + 48);
                a0 = Vector512.FusedMultiplyAdd(v0, v0, a0);
                a1 = Vector512.FusedMultiplyAdd(v1, v1, a1);
                a2 = Vector512.FusedMultiplyAdd(v2, v2, a2);
                a3 = Vector512.FusedMultiplyAdd(v3, v3, a3);
            }

            for (; i <= c - 16; i += 16)
            {
                Vector512<float> v0 = Vector512.Load(x + i);
                a0 = Vector512.FusedMultiplyAdd(v0, v0, a0);
            }

            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
            for (; i <= c - 16; i += 16)
            {
                Vector256<float> v0 = Vector256.Load(x + i), v1 = Vector256.Load(x + i + 8);
                a0 = Vector256.FusedMultiplyAdd(v0, v0, a0);
                a1 = Vector256.FusedMultiplyAdd(v1, v1, a1);
            }

            if (i <= c - 8)
            {
                Vector256<float> v0 = Vector256.Load(x + i);
                a0 = Vector256.FusedMultiplyAdd(v0, v0, a0);
                i += 8;
            }

            s += Vector256.Sum(a0 + a1);
        }

        for (; i < c; i++)
        {
            s += x[i] * x[i];
        }

        return s;
    }

    private static unsafe void Scale(float* x, float* gamma, float* y, int c, float rstd)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(rstd);
            for (; i <= c - 16; i += 16)
            {
                (Vector512.Load(x + i) * s * Vector512.Load(gamma + i)).Store(y + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(rstd);
            for (; i <= c - 8; i += 8)
            {
                (Vector256.Load(x + i) * s * Vector256.Load(gamma + i)).Store(y + i);
            }
        }

        for (; i < c; i++)
        {
            y[i] = x[i] * rstd * gamma[i];
        }
    }

    private static unsafe void BackwardRow(float* dy, float* x, float* gamma, float rstd, float* dx, float* dgamma, int c)
    {
        float b = 0;
        if (dx != null)
        {
            // mean(g·x̂) = rstd·Σ(dy·γ·x)/C: one dot product, rstd applied once.
            b = Dot3(dy, gamma, x, c) * rstd / c;
        }

        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s = Vector512.Create(rstd), vb = Vector512.Create(b);
            for (; i <= c - 16; i += 16)
            {
                Vector512<float> d = Vector512.Load(dy + i);
                Vector512<float> xh = Vector512.Load(x + i) * s;
                if (dgamma != null)
                {
                    Vector512.FusedMultiplyAdd(d, xh, Vector512.Load(dgamma + i)).Store(dgamma + i);
                }

                if (dx != null)
                {
                    Vector512<float> g = d * Vector512.Load(gamma + i);
                    Vector512.FusedMultiplyAdd(s, g - xh * vb, Vector512.Load(dx + i)).Store(dx + i);
                }
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s = Vector256.Create(rstd), vb = Vector256.Create(b);
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> d = Vector256.Load(dy + i);
                Vector256<float> xh = Vector256.Load(x + i) * s;
                if (dgamma != null)
                {
                    Vector256.FusedMultiplyAdd(d, xh, Vector256.Load(dgamma + i)).Store(dgamma + i);
                }

                if (dx != null)
                {
                    Vector256<float> g = d * Vector256.Load(gamma + i);
                    Vector256.FusedMultiplyAdd(s, g - xh * vb, Vector256.Load(dx + i)).Store(dx + i);
                }
            }
        }

        for (; i < c; i++)
        {
            float d = dy[i];
            float xh = x[i] * rstd;
            if (dgamma != null)
            {
                dgamma[i] = MathF.FusedMultiplyAdd(d, xh, dgamma[i]);
            }

            if (dx != null)
            {
                dx[i] = MathF.FusedMultiplyAdd(rstd, d * gamma[i] - xh * b, dx[i]);
            }
        }
    }

    /// <summary>Σ a·b·d over a row.</summary>
    private static unsafe float Dot3(float* a, float* b, float* d, int c)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= c - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i) * Vector512.Load(b + i), Vector512.Load(d + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16) * Vector512.Load(b + i + 16), Vector512.Load(d + i + 16), acc1);
            }

            if (i <= c - 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i) * Vector512.Load(b + i), Vector512.Load(d + i), acc0);
                i += 16;
            }

            s = Vector512.Sum(acc0 + acc1);
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i) * Vector256.Load(b + i), Vector256.Load(d + i), acc);
            }

            s += Vector256.Sum(acc);
        }

        for (; i < c; i++)
        {
            s += a[i] * b[i] * d[i];
        }

        return s;
    }
}
