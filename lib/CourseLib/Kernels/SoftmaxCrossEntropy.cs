// Softmax fused with the mean cross-entropy loss.   logits, probs, dlogits: [N, V]   targets: [N] (int)
//
//   probs[n,·] = softmax(logits[n,·])                                   (max-subtracted, as Softmax)
//   loss_n     = −log probs[n, t_n] = log Σ_k exp(logits[n,k] − max_n) + max_n − logits[n, t_n]
//   L          = (1/M) Σ_{n : t_n ≥ 0} loss_n,     M = #{n : t_n ≥ 0}    (t_n = −1 ignores row n)
//
// Backward (the softmax and the log cancel into the classic form), with dL the incoming gradient of L:
//   dlogits[n,k] += (dL/M)·( probs[n,k] − [k = t_n] )     for rows with t_n ≥ 0; ignored rows get nothing
//
// loss_n is computed from the log-sum-exp, not as −log(probs), so it stays finite and exact when the target's
// probability underflows. Targets must be in [−1, V); anything else throws before any work. If every row is
// ignored, M = 0 and L = NaN (0/0), as PyTorch's cross_entropy with reduction "mean"; Backward then adds
// nothing. Row losses are summed in double (their log Σ terms as the log of a running product, see Rows).
// NaN/∞ in a row's logits make that row's probs and loss NaN.
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Softmax + mean cross-entropy over rows with a target (target −1 = ignore): logits in, loss and cached
/// probabilities out; <c>Backward</c> writes the gradient of the mean loss with respect to the logits.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>The target value that marks a row as ignored (PyTorch's ignore_index, fixed at −1 here).</summary>
    public const int IgnoreIndex = -1;

    /// <summary>Computes probs = softmax(logits) per row and returns the mean loss over non-ignored rows (fast path).</summary>
    /// <param name="logits">Unnormalized scores, <c>[N, V]</c>.</param>
    /// <param name="targets">Class index per row in [0, V), or −1 to ignore the row, <c>[N]</c>.</param>
    /// <param name="probs">Receives the softmax probabilities, <c>[N, V]</c> (cached for <see cref="Backward"/>).</param>
    /// <param name="n">Rows N.</param>
    /// <param name="v">Classes V.</param>
    /// <returns>The mean loss over rows whose target is ≥ 0; NaN when every row is ignored.</returns>
    public static unsafe float Forward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> probs, int n, int v)
    {
        Validate(logits, nameof(logits), targets, probs, nameof(probs), n, v, isBackward: false);
        int count = CountTargets(targets, n);
        fixed (float* pl = logits, pp = probs)
        fixed (int* pt = targets)
        {
            int minRows = LayerNorm.MinRowsPerThread(v);
            int threads = Math.Min(KernelThreads.Max, Math.Max(1, n / minRows));
            double total;
            if (threads <= 1)
            {
                total = Rows(pl, pt, pp, 0, n, v, Softmax.Interleaves(n, v));
            }
            else
            {
                total = Threaded(pl, pt, pp, n, v, threads);
            }

            return (float)(total / count);
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>, in double.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    /// <returns>The mean loss over rows whose target is ≥ 0; NaN when every row is ignored.</returns>
    public static float ForwardReference(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> probs, int n, int v)
    {
        Validate(logits, nameof(logits), targets, probs, nameof(probs), n, v, isBackward: false);
        double total = 0;
        int count = 0;
        for (int row = 0; row < n; row++)
        {
            int o = row * v;
            double max = double.NegativeInfinity;
            for (int k = 0; k < v; k++)
            {
                max = Math.Max(max, logits[o + k]);
            }

            double sum = 0;
            for (int k = 0; k < v; k++)
            {
                sum += Math.Exp(logits[o + k] - max);
            }

            for (int k = 0; k < v; k++)
            {
                probs[o + k] = (float)(Math.Exp(logits[o + k] - max) / sum);
            }

            if (targets[row] >= 0)
            {
                total += Math.Log(sum) + max - logits[o + targets[row]];
                count++;
            }
        }

        return (float)(total / count);
    }

    /// <summary>
    /// Accumulates dlogits += (dloss/M)·(probs − onehot(target)) for every row with a target (fast path).
    /// </summary>
    /// <param name="probs">The probabilities cached by <see cref="Forward"/>, <c>[N, V]</c>.</param>
    /// <param name="targets">The same targets as the forward, <c>[N]</c>.</param>
    /// <param name="dlogits">Accumulates the gradient of the loss with respect to the logits, <c>[N, V]</c>.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="v">Classes V.</param>
    /// <param name="dloss">Gradient of the final objective with respect to the mean loss (1 when the loss is the objective).</param>
    public static unsafe void Backward(ReadOnlySpan<float> probs, ReadOnlySpan<int> targets, Span<float> dlogits, int n, int v, float dloss = 1f)
    {
        Validate(probs, nameof(probs), targets, dlogits, nameof(dlogits), n, v, isBackward: true);
        int count = CountTargets(targets, n);
        if (count == 0)
        {
            return;
        }

        float scale = dloss / count;
        fixed (float* pp = probs, pd = dlogits)
        fixed (int* pt = targets)
        {
            int minRows = LayerNorm.MinRowsPerThread(v);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new BackwardBody(pp, pt, pd, v, scale);
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                BackwardRows(pp, pt, pd, 0, n, v, scale);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> probs, ReadOnlySpan<int> targets, Span<float> dlogits, int n, int v, float dloss = 1f)
    {
        Validate(probs, nameof(probs), targets, dlogits, nameof(dlogits), n, v, isBackward: true);
        int count = CountTargets(targets, n);
        for (int row = 0; row < n && count > 0; row++)
        {
            if (targets[row] < 0)
            {
                continue;
            }

            for (int k = 0; k < v; k++)
            {
                double indicator = k == targets[row] ? 1 : 0;
                dlogits[row * v + k] += (float)((double)dloss / count * (probs[row * v + k] - indicator));
            }
        }
    }

    private static void Validate(ReadOnlySpan<float> input, string inputName, ReadOnlySpan<int> targets, Span<float> output,
        string outputName, int n, int v, bool isBackward)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(v, nameof(v));
        if (input.Length != (long)n * v)
        {
            Check.Length(input.Length, (long)n * v, inputName, $"N·V = {n}·{v}");
        }

        Check.Length(targets.Length, n, nameof(targets), "N");
        if (output.Length < (long)n * v)
        {
            Check.Destination(output.Length, (long)n * v, outputName, $"N·V = {n}·{v}");
        }

        Check.NoOverlap(input, inputName, output, outputName);
        for (int i = 0; i < n; i++)
        {
            int t = targets[i];
            if (t < IgnoreIndex || t >= v)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), t,
                    $"targets[{i}] = {t} is outside [-1, V) = [-1, {v}); use -1 to ignore a row{(isBackward ? " (Backward must get the forward's targets)" : "")}.");
            }
        }
    }

    private static int CountTargets(ReadOnlySpan<int> targets, int n)
    {
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            count += targets[i] >= 0 ? 1 : 0;
        }

        return count;
    }

    // Σ over rows of log Σ + max − logit[target]. The log Σ terms are taken as the log of their product, one Math.Log
    // per ~100 rows instead of one per row (a log costs more than the whole softmax of a 64-wide row): every Σ is in
    // [1, V] (the largest term is exactly 1), so the running product only grows and is logged before it nears
    // double's limit. A NaN Σ makes the product, and so the loss, NaN.
    private static unsafe double Rows(float* logits, int* targets, float* probs, int start, int end, int v, bool interleave)
    {
        const int Chunk = 64;
        float* maxes = stackalloc float[Chunk];
        float* sums = stackalloc float[Chunk];
        double total = 0, product = 1;
        for (int first = start; first < end; first += Chunk)
        {
            int last = Math.Min(end, first + Chunk);
            Softmax.Rows(logits, probs, first, last, v, maxes - first, sums - first, interleave);
            for (int row = first; row < last; row++)
            {
                int t = targets[row];
                if (t >= 0)
                {
                    product *= sums[row - first];
                    total += maxes[row - first] - logits[(long)row * v + t];
                    if (product > 1e280)
                    {
                        total += Math.Log(product);
                        product = 1;
                    }
                }
            }
        }

        return total + Math.Log(product);
    }

    // Per-thread partial sums on the stack, added in thread order, so the loss does not depend on scheduling.
    private static unsafe double Threaded(float* logits, int* targets, float* probs, int n, int v, int threads)
    {
        double* partial = stackalloc double[threads];
        int chunk = (n + threads - 1) / threads;
        var body = new RowsBody(logits, targets, probs, partial, n, v, chunk);
        KernelThreads.For(threads, 1, ref body);

        double total = 0;
        for (int t = 0; t < threads; t++)
        {
            total += partial[t];
        }

        return total;
    }

    /// <summary>Thread t's rows; its loss sum goes to <c>partial[t]</c>.</summary>
    private readonly unsafe struct RowsBody(float* logits, int* targets, float* probs, double* partial, int n, int v, int chunk)
        : IRangeBody
    {
        public void Run(int start, int end)
        {
            for (int t = start; t < end; t++)
            {
                int first = t * chunk, last = Math.Min(n, (t + 1) * chunk);
                partial[t] = Rows(logits, targets, probs, first, last, v, Softmax.Interleaves(last - first, v));
            }
        }
    }

    private readonly unsafe struct BackwardBody(float* probs, int* targets, float* dlogits, int v, float scale) : IRangeBody
    {
        public void Run(int start, int end) => BackwardRows(probs, targets, dlogits, start, end, v, scale);
    }

    private static unsafe void BackwardRows(float* probs, int* targets, float* dlogits, int start, int end, int v, float scale)
    {
        for (int row = start; row < end; row++)
        {
            int t = targets[row];
            if (t < 0)
            {
                continue;
            }

            float* p = probs + (long)row * v, d = dlogits + (long)row * v;
            int k = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var s = Vector512.Create(scale);
                for (; k <= v - 16; k += 16)
                {
                    Vector512.FusedMultiplyAdd(Vector512.Load(p + k), s, Vector512.Load(d + k)).Store(d + k);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                var s = Vector256.Create(scale);
                for (; k <= v - 8; k += 8)
                {
                    Vector256.FusedMultiplyAdd(Vector256.Load(p + k), s, Vector256.Load(d + k)).Store(d + k);
                }
            }

            for (; k < v; k++)
            {
                d[k] = MathF.FusedMultiplyAdd(p[k], scale, d[k]);
            }

            d[t] -= scale;
        }
    }
}
