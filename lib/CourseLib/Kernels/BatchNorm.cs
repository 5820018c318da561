// BatchNorm over the batch axis, per channel.   x, y: [N, C]   γ, β, mean, rstd, runningMean, runningVar: [C]
//
// Training mode (batch statistics):
//   mean_c = (1/N) Σ_n x[n,c]          var_c = (1/N) Σ_n (x[n,c] − mean_c)²      (biased: used to normalize)
//   rstd_c = 1/sqrt(var_c + eps)        y[n,c] = (x[n,c] − mean_c)·rstd_c·γ_c + β_c
//   runningMean_c ← (1 − momentum)·runningMean_c + momentum·mean_c
//   runningVar_c  ← (1 − momentum)·runningVar_c  + momentum·var_c·N/(N − 1)     (unbiased, as PyTorch)
// Inference mode (running statistics, nothing updated): mean_c = runningMean_c, rstd_c = 1/sqrt(runningVar_c + eps),
// y as above; mean and rstd are still written, so Backward(training: false) can use them.
//
// Backward, x̂ = (x − mean)·rstd, sums over the batch:
//   dβ_c += Σ_n dy       dγ_c += Σ_n dy·x̂
//   training:  dx[n,c] += γ_c·rstd_c·( dy[n,c] − (1/N)Σ_n dy − x̂[n,c]·(1/N)Σ_n dy·x̂ )   (the batch statistics depend on x)
//   inference: dx[n,c] += γ_c·rstd_c·dy[n,c]                                             (they are constants)
//
// Unlike LayerNorm, a row's output depends on every other row of the batch in training mode.
// Numerics: the sums over the batch run in row order (contiguous, vectorized across channels) into double
// accumulators in the calling thread's scratch (ThreadScratch): N can be thousands, where a float running sum would
// lose digits.
// The variance is two-pass (mean first). NaN/∞ in a channel make that channel's statistics and outputs NaN.
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Batch normalization of a row-major <c>[N, C]</c> batch, per channel over the N rows, in training mode (batch
/// statistics, running statistics updated) or inference mode (running statistics). See the file header.
/// </summary>
public static class BatchNorm
{
    /// <summary>Normalizes each channel over the batch (fast path).</summary>
    /// <param name="x">Input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="beta">Shift β, <c>[C]</c>.</param>
    /// <param name="y">Output, <c>[N, C]</c>.</param>
    /// <param name="mean">Receives the mean used per channel (batch mean in training, running mean in inference), <c>[C]</c>.</param>
    /// <param name="rstd">Receives the 1/sqrt(var + eps) used per channel, <c>[C]</c>.</param>
    /// <param name="runningMean">Running mean, <c>[C]</c>: updated in training, read in inference.</param>
    /// <param name="runningVar">Running (unbiased) variance, <c>[C]</c>: updated in training, read in inference.</param>
    /// <param name="n">Rows N (the batch); training needs N ≥ 2.</param>
    /// <param name="c">Channels C.</param>
    /// <param name="training">True: batch statistics and running-statistic updates; false: running statistics.</param>
    /// <param name="momentum">Weight of the new batch statistic in the running averages, in [0, 1] (PyTorch's default 0.1).</param>
    /// <param name="eps">Added to the variance inside the square root; ≥ 0 and finite.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, Span<float> runningMean, Span<float> runningVar, int n, int c, bool training,
        float momentum = 0.1f, float eps = 1e-5f)
    {
        ValidateForward(x, gamma, beta, y, mean, rstd, runningMean, runningVar, n, c, training, momentum, eps);
        using var lease = ThreadScratch.Doubles(c, out double[] scratch);
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd, prm = runningMean, prv = runningVar)
        fixed (double* ps = scratch)
        {
            var f = new ForwardArgs(px, pg, pb, py, pm, pr, prm, prv, ps, n, c, training, momentum, eps);
            int minChannels = MinChannelsPerThread(n);
            if (KernelThreads.Max > 1 && c >= 2 * minChannels)
            {
                ForwardThreaded(f, minChannels);
            }
            else
            {
                ForwardChannels(f, 0, c);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>, one channel at a time, statistics in double.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, Span<float> runningMean, Span<float> runningVar, int n, int c, bool training,
        float momentum = 0.1f, float eps = 1e-5f)
    {
        ValidateForward(x, gamma, beta, y, mean, rstd, runningMean, runningVar, n, c, training, momentum, eps);
        for (int j = 0; j < c; j++)
        {
            if (training)
            {
                double sum = 0;
                for (int row = 0; row < n; row++)
                {
                    sum += x[row * c + j];
                }

                double m = sum / n, sq = 0;
                for (int row = 0; row < n; row++)
                {
                    double d = x[row * c + j] - m;
                    sq += d * d;
                }

                double variance = sq / n;
                mean[j] = (float)m;
                rstd[j] = (float)(1.0 / Math.Sqrt(variance + eps));
                runningMean[j] = (float)((1 - momentum) * runningMean[j] + momentum * m);
                runningVar[j] = (float)((1 - momentum) * runningVar[j] + momentum * variance * n / (n - 1));
            }
            else
            {
                mean[j] = runningMean[j];
                rstd[j] = (float)(1.0 / Math.Sqrt(runningVar[j] + (double)eps));
            }

            for (int row = 0; row < n; row++)
            {
                y[row * c + j] = (x[row * c + j] - mean[j]) * rstd[j] * gamma[j] + beta[j];
            }
        }
    }

    /// <summary>
    /// Accumulates the gradients of <see cref="Forward"/>: dx, dγ, dβ (fast path). Pass the same
    /// <paramref name="training"/> as the forward: in training the batch statistics depend on x. Any of
    /// <paramref name="dx"/>, <paramref name="dgamma"/>, <paramref name="dbeta"/> may be empty to skip it.
    /// </summary>
    /// <param name="dy">Gradient of the output, <c>[N, C]</c>.</param>
    /// <param name="x">The forward input, <c>[N, C]</c>.</param>
    /// <param name="gamma">Scale γ, <c>[C]</c>.</param>
    /// <param name="mean">The mean the forward wrote, <c>[C]</c>.</param>
    /// <param name="rstd">The rstd the forward wrote, <c>[C]</c>.</param>
    /// <param name="dx">Accumulates the input gradient, <c>[N, C]</c>, or empty.</param>
    /// <param name="dgamma">Accumulates the γ gradient, <c>[C]</c>, or empty.</param>
    /// <param name="dbeta">Accumulates the β gradient, <c>[C]</c>, or empty.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    /// <param name="training">Whether the forward used batch statistics (default) or running ones.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c, bool training = true)
    {
        ValidateBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, n, c);
        using var sumsLease = ThreadScratch.Doubles(2 * c, out double[] sums);
        using var coefLease = ThreadScratch.Floats(3 * c, out float[] coef);
        fixed (float* pdy = dy, px = x, pg = gamma, pm = mean, pr = rstd, pdx = dx, pdg = dgamma, pdb = dbeta, pk = coef)
        fixed (double* ps = sums)
        {
            var b = new BackwardArgs(pdy, px, pg, pm, pr, dx.IsEmpty ? null : pdx, dgamma.IsEmpty ? null : pdg,
                dbeta.IsEmpty ? null : pdb, ps, pk, n, c, training);
            int minChannels = MinChannelsPerThread(n);
            if (KernelThreads.Max > 1 && c >= 2 * minChannels)
            {
                BackwardThreaded(b, minChannels);
            }
            else
            {
                BackwardChannels(b, 0, c);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>, one channel at a time, sums in double.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c, bool training = true)
    {
        ValidateBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, n, c);
        for (int j = 0; j < c; j++)
        {
            double sdy = 0, sdyx = 0;
            for (int row = 0; row < n; row++)
            {
                double xh = (x[row * c + j] - mean[j]) * rstd[j];
                sdy += dy[row * c + j];
                sdyx += dy[row * c + j] * xh;
            }

            if (!dbeta.IsEmpty)
            {
                dbeta[j] += (float)sdy;
            }

            if (!dgamma.IsEmpty)
            {
                dgamma[j] += (float)sdyx;
            }

            for (int row = 0; row < n && !dx.IsEmpty; row++)
            {
                double xh = (x[row * c + j] - mean[j]) * rstd[j];
                double g = training ? dy[row * c + j] - sdy / n - xh * sdyx / n : dy[row * c + j];
                dx[row * c + j] += (float)(gamma[j] * rstd[j] * g);
            }
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> mean, Span<float> rstd, Span<float> runningMean, Span<float> runningVar, int n, int c, bool training,
        float momentum, float eps)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        if (training && n < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n,
                $"BatchNorm in training mode needs N ≥ 2 rows per channel (the unbiased running variance divides by N − 1), got N = {n}.");
        }

        RowChecks.Matrix(x.Length, n, c, nameof(x));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(beta.Length, c, nameof(beta), "C");
        RowChecks.MatrixDestination(y.Length, n, c, nameof(y));
        Check.Destination(mean.Length, c, nameof(mean), "C");
        Check.Destination(rstd.Length, c, nameof(rstd), "C");
        Check.Length(runningMean.Length, c, nameof(runningMean), "C");
        Check.Length(runningVar.Length, c, nameof(runningVar), "C");
        if (!(momentum >= 0 && momentum <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"momentum must be in [0, 1], got {momentum}.");
        }

        LayerNorm.Eps(eps);
        // y, mean and rstd are written; the running statistics are read and (in training) written.
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), x, nameof(x));
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), gamma, nameof(gamma));
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), beta, nameof(beta));
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), runningMean, nameof(runningMean));
        LayerNorm.Outputs3(y, nameof(y), mean, nameof(mean), rstd, nameof(rstd), runningVar, nameof(runningVar));
        LayerNorm.Outputs3(runningMean, nameof(runningMean), runningVar, nameof(runningVar), Span<float>.Empty, "-", x, nameof(x));
        LayerNorm.Outputs3(runningMean, nameof(runningMean), runningVar, nameof(runningVar), Span<float>.Empty, "-", gamma, nameof(gamma));
        LayerNorm.Outputs3(runningMean, nameof(runningMean), runningVar, nameof(runningVar), Span<float>.Empty, "-", beta, nameof(beta));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> rstd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(dy.Length, n, c, nameof(dy));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(mean.Length, c, nameof(mean), "C");
        Check.Length(rstd.Length, c, nameof(rstd), "C");
        if (!dx.IsEmpty)
        {
            RowChecks.MatrixDestination(dx.Length, n, c, nameof(dx));
        }

        if (!dgamma.IsEmpty)
        {
            Check.Destination(dgamma.Length, c, nameof(dgamma), "C");
        }

        if (!dbeta.IsEmpty)
        {
            Check.Destination(dbeta.Length, c, nameof(dbeta), "C");
        }

        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), dbeta, nameof(dbeta), dy, nameof(dy));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), dbeta, nameof(dbeta), x, nameof(x));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), dbeta, nameof(dbeta), gamma, nameof(gamma));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), dbeta, nameof(dbeta), mean, nameof(mean));
        LayerNorm.Outputs3(dx, nameof(dx), dgamma, nameof(dgamma), dbeta, nameof(dbeta), rstd, nameof(rstd));
    }

    // Channels are independent, so each thread takes a contiguous block of channels (whole 16-lane vectors)
    // across all rows and runs every phase for it; at least LayerNorm.ElementsPerThread elements per thread.
    private static int MinChannelsPerThread(int n) => Math.Max(16, (LayerNorm.ElementsPerThread / n + 15) & ~15);

    // The pinned buffers one call works on, passed by value so the threaded path captures one struct.
    private readonly unsafe struct ForwardArgs(float* x, float* gamma, float* beta, float* y, float* mean, float* rstd,
        float* runningMean, float* runningVar, double* scratch, int n, int c, bool training, float momentum, float eps)
    {
        public readonly float* X = x, Gamma = gamma, Beta = beta, Y = y, Mean = mean, Rstd = rstd, RunningMean = runningMean, RunningVar = runningVar;
        public readonly double* Scratch = scratch;
        public readonly int N = n, C = c;
        public readonly bool Training = training;
        public readonly float Momentum = momentum, Eps = eps;
    }

    private readonly unsafe struct BackwardArgs(float* dy, float* x, float* gamma, float* mean, float* rstd, float* dx,
        float* dgamma, float* dbeta, double* sums, float* coef, int n, int c, bool training)
    {
        public readonly float* Dy = dy, X = x, Gamma = gamma, Mean = mean, Rstd = rstd, Dx = dx, Dgamma = dgamma, Dbeta = dbeta, Coef = coef;
        public readonly double* Sums = sums;
        public readonly int N = n, C = c;
        public readonly bool Training = training;
    }

    private static void ForwardThreaded(ForwardArgs f, int minChannels)
    {
        var body = new ForwardBody(f);
        KernelThreads.For(f.C, minChannels, ref body);
    }

    private static void BackwardThreaded(BackwardArgs b, int minChannels)
    {
        var body = new BackwardBody(b);
        KernelThreads.For(b.C, minChannels, ref body);
    }

    private readonly struct ForwardBody(ForwardArgs f) : IRangeBody
    {
        private readonly ForwardArgs _f = f;

        public void Run(int start, int end) => ForwardChannels(_f, start, end);
    }

    private readonly struct BackwardBody(BackwardArgs b) : IRangeBody
    {
        private readonly BackwardArgs _b = b;

        public void Run(int start, int end) => BackwardChannels(_b, start, end);
    }

    private static unsafe void ForwardChannels(ForwardArgs f, int j0, int j1)
    {
        int n = f.N, c = f.C;
        if (f.Training)
        {
            double* s = f.Scratch;
            new Span<double>(s + j0, j1 - j0).Clear();
            SumColumns(f.X, n, c, j0, j1, s);
            for (int j = j0; j < j1; j++)
            {
                f.Mean[j] = (float)(s[j] / n);
            }

            new Span<double>(s + j0, j1 - j0).Clear();
            SquaredDeviationColumns(f.X, f.Mean, n, c, j0, j1, s);
            float m = f.Momentum;
            for (int j = j0; j < j1; j++)
            {
                double variance = s[j] / n;
                f.Rstd[j] = (float)(1.0 / Math.Sqrt(variance + f.Eps));
                f.RunningMean[j] = (float)((1 - m) * (double)f.RunningMean[j] + m * (double)f.Mean[j]);
                f.RunningVar[j] = (float)((1 - m) * (double)f.RunningVar[j] + m * variance * n / (n - 1));
            }
        }
        else
        {
            for (int j = j0; j < j1; j++)
            {
                f.Mean[j] = f.RunningMean[j];
                f.Rstd[j] = (float)(1.0 / Math.Sqrt(f.RunningVar[j] + (double)f.Eps));
            }
        }

        NormalizeColumns(f.X, f.Mean, f.Rstd, f.Gamma, f.Beta, f.Y, n, c, j0, j1);
    }

    private static unsafe void BackwardChannels(BackwardArgs b, int j0, int j1)
    {
        int n = b.N, c = b.C;
        double* sdy = b.Sums, sdyx = b.Sums + c;
        new Span<double>(sdy + j0, j1 - j0).Clear();
        new Span<double>(sdyx + j0, j1 - j0).Clear();
        GradSumColumns(b.Dy, b.X, b.Mean, b.Rstd, n, c, j0, j1, sdy, sdyx);
        float* k = b.Coef, am = b.Coef + c, bm = b.Coef + 2 * c;
        for (int j = j0; j < j1; j++)
        {
            if (b.Dbeta != null)
            {
                b.Dbeta[j] += (float)sdy[j];
            }

            if (b.Dgamma != null)
            {
                b.Dgamma[j] += (float)sdyx[j];
            }

            k[j] = b.Gamma[j] * b.Rstd[j];
            am[j] = b.Training ? (float)(sdy[j] / n) : 0f;
            bm[j] = b.Training ? (float)(sdyx[j] / n) : 0f;
        }

        if (b.Dx != null)
        {
            DxColumns(b.Dy, b.X, b.Mean, b.Rstd, k, am, bm, b.Dx, n, c, j0, j1);
        }
    }

    // ---- column kernels over channels [j0, j1) of all rows: Vector512, then Vector256, then scalar channels ----

    private static unsafe void SumColumns(float* x, int n, int c, int j0, int j1, double* s)
    {
        for (int row = 0; row < n; row++)
        {
            float* xr = x + (long)row * c;
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= j1 - 16; j += 16)
                {
                    (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.Load(xr + j));
                    (Vector512.Load(s + j) + lo).Store(s + j);
                    (Vector512.Load(s + j + 8) + hi).Store(s + j + 8);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= j1 - 8; j += 8)
                {
                    (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.Load(xr + j));
                    (Vector256.Load(s + j) + lo).Store(s + j);
                    (Vector256.Load(s + j + 4) + hi).Store(s + j + 4);
                }
            }

            for (; j < j1; j++)
            {
                s[j] += xr[j];
            }
        }
    }

    private static unsafe void SquaredDeviationColumns(float* x, float* mean, int n, int c, int j0, int j1, double* s)
    {
        for (int row = 0; row < n; row++)
        {
            float* xr = x + (long)row * c;
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= j1 - 16; j += 16)
                {
                    (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.Load(xr + j) - Vector512.Load(mean + j));
                    Vector512.FusedMultiplyAdd(lo, lo, Vector512.Load(s + j)).Store(s + j);
                    Vector512.FusedMultiplyAdd(hi, hi, Vector512.Load(s + j + 8)).Store(s + j + 8);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= j1 - 8; j += 8)
                {
                    (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.Load(xr + j) - Vector256.Load(mean + j));
                    Vector256.FusedMultiplyAdd(lo, lo, Vector256.Load(s + j)).Store(s + j);
                    Vector256.FusedMultiplyAdd(hi, hi, Vector256.Load(s + j + 4)).Store(s + j + 4);
                }
            }

            for (; j < j1; j++)
            {
                double d = xr[j] - mean[j];
                s[j] += d * d;
            }
        }
    }

    private static unsafe void NormalizeColumns(float* x, float* mean, float* rstd, float* gamma, float* beta, float* y,
        int n, int c, int j0, int j1)
    {
        for (int row = 0; row < n; row++)
        {
            float* xr = x + (long)row * c, yr = y + (long)row * c;
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= j1 - 16; j += 16)
                {
                    Vector512<float> xh = (Vector512.Load(xr + j) - Vector512.Load(mean + j)) * Vector512.Load(rstd + j);
                    Vector512.FusedMultiplyAdd(xh, Vector512.Load(gamma + j), Vector512.Load(beta + j)).Store(yr + j);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= j1 - 8; j += 8)
                {
                    Vector256<float> xh = (Vector256.Load(xr + j) - Vector256.Load(mean + j)) * Vector256.Load(rstd + j);
                    Vector256.FusedMultiplyAdd(xh, Vector256.Load(gamma + j), Vector256.Load(beta + j)).Store(yr + j);
                }
            }

            for (; j < j1; j++)
            {
                yr[j] = MathF.FusedMultiplyAdd((xr[j] - mean[j]) * rstd[j], gamma[j], beta[j]);
            }
        }
    }

    private static unsafe void GradSumColumns(float* dy, float* x, float* mean, float* rstd, int n, int c, int j0, int j1,
        double* sdy, double* sdyx)
    {
        for (int row = 0; row < n; row++)
        {
            float* dr = dy + (long)row * c, xr = x + (long)row * c;
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= j1 - 16; j += 16)
                {
                    Vector512<float> d = Vector512.Load(dr + j);
                    Vector512<float> xh = (Vector512.Load(xr + j) - Vector512.Load(mean + j)) * Vector512.Load(rstd + j);
                    (Vector512<double> dlo, Vector512<double> dhi) = Vector512.Widen(d);
                    (Vector512<double> plo, Vector512<double> phi) = Vector512.Widen(d * xh);
                    (Vector512.Load(sdy + j) + dlo).Store(sdy + j);
                    (Vector512.Load(sdy + j + 8) + dhi).Store(sdy + j + 8);
                    (Vector512.Load(sdyx + j) + plo).Store(sdyx + j);
                    (Vector512.Load(sdyx + j + 8) + phi).Store(sdyx + j + 8);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= j1 - 8; j += 8)
                {
                    Vector256<float> d = Vector256.Load(dr + j);
                    Vector256<float> xh = (Vector256.Load(xr + j) - Vector256.Load(mean + j)) * Vector256.Load(rstd + j);
                    (Vector256<double> dlo, Vector256<double> dhi) = Vector256.Widen(d);
                    (Vector256<double> plo, Vector256<double> phi) = Vector256.Widen(d * xh);
                    (Vector256.Load(sdy + j) + dlo).Store(sdy + j);
                    (Vector256.Load(sdy + j + 4) + dhi).Store(sdy + j + 4);
                    (Vector256.Load(sdyx + j) + plo).Store(sdyx + j);
                    (Vector256.Load(sdyx + j + 4) + phi).Store(sdyx + j + 4);
                }
            }

            for (; j < j1; j++)
            {
                float xh = (xr[j] - mean[j]) * rstd[j];
                sdy[j] += dr[j];
                sdyx[j] += dr[j] * xh;
            }
        }
    }

    /// <summary>dx += k·(dy − am − x̂·bm) with k = γ·rstd; am = bm = 0 in inference mode.</summary>
    private static unsafe void DxColumns(float* dy, float* x, float* mean, float* rstd, float* k, float* am, float* bm, float* dx,
        int n, int c, int j0, int j1)
    {
        for (int row = 0; row < n; row++)
        {
            float* dr = dy + (long)row * c, xr = x + (long)row * c, dxr = dx + (long)row * c;
            int j = j0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= j1 - 16; j += 16)
                {
                    Vector512<float> xh = (Vector512.Load(xr + j) - Vector512.Load(mean + j)) * Vector512.Load(rstd + j);
                    Vector512<float> g = Vector512.Load(dr + j) - Vector512.Load(am + j) - xh * Vector512.Load(bm + j);
                    Vector512.FusedMultiplyAdd(Vector512.Load(k + j), g, Vector512.Load(dxr + j)).Store(dxr + j);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= j1 - 8; j += 8)
                {
                    Vector256<float> xh = (Vector256.Load(xr + j) - Vector256.Load(mean + j)) * Vector256.Load(rstd + j);
                    Vector256<float> g = Vector256.Load(dr + j) - Vector256.Load(am + j) - xh * Vector256.Load(bm + j);
                    Vector256.FusedMultiplyAdd(Vector256.Load(k + j), g, Vector256.Load(dxr + j)).Store(dxr + j);
                }
            }

            for (; j < j1; j++)
            {
                float xh = (xr[j] - mean[j]) * rstd[j];
                dxr[j] = MathF.FusedMultiplyAdd(k[j], dr[j] - am[j] - xh * bm[j], dxr[j]);
            }
        }
    }
}
