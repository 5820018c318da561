// Linear (fully connected) layer, PyTorch's nn.Linear layout:
//   x: [N, I]   W: [O, I]   b: [O] (or empty)   y: [N, O]
//   forward   y  = x·Wᵀ + b                 y[n, o]  = b[o] + Σ_i x[n, i]·W[o, i]
//   backward  dx += dy·W                    dx[n, i] += Σ_o dy[n, o]·W[o, i]
//             dW += dyᵀ·x                   dW[o, i] += Σ_n dy[n, o]·x[n, i]
//             db += Σ_n dy[n, ·]            db[o]    += Σ_n dy[n, o]
// Each product is one call of the packed SGEMM in Gemm.cs (NT, NN and TN respectively), except the forward pass
// of a few rows (N ≤ MatVecMaxRows, e.g. generating one token at a time): there every weight is used at most N
// times, so packing W (a full copy of it) would cost more than it saves, and y is computed as dot products
// straight off W's rows, each weight read once (a matrix–vector product).
using System.Numerics.Tensors;

namespace CourseLib.Kernels;

/// <summary>
/// The Linear layer y = x·Wᵀ + b over a batch of rows, with W stored [out, in] like PyTorch's <c>nn.Linear</c>.
/// <see cref="Forward"/> and <see cref="Backward"/> run a packed, register-blocked SGEMM (AVX-512 where the CPU
/// has it, multi-threaded above about a million multiply-adds); <see cref="ForwardReference"/> and
/// <see cref="BackwardReference"/> are the plain loops the lesson reads. Sums accumulate in float; NaN and ∞
/// propagate.
/// </summary>
public static class Linear
{
    /// <summary>y[N, O] = x[N, I]·Wᵀ + b, written (not accumulated) into <paramref name="y"/>.</summary>
    /// <param name="x">Input rows, [n, inDim].</param>
    /// <param name="w">Weights, [outDim, inDim] (row o holds the weights of output o).</param>
    /// <param name="b">Bias, [outDim], or empty for no bias.</param>
    /// <param name="y">Output, at least [n, outDim]; must not overlap x, w or b.</param>
    /// <param name="n">Rows (tokens, B·T).</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        ValidateForward(x, w, b, y, n, inDim, outDim);
        if (n <= MatVecMaxRows)
        {
            ForwardFewRows(x, w, b, y, n, inDim, outDim);
            return;
        }

        // The bias joins each tile of y in registers (no pass over y to fill it first).
        Gemm.Multiply(false, true, n, outDim, inDim, x, inDim, w, inDim, y, outDim, accumulate: false, bias: b);
    }

    /// <summary>Up to this many rows, <see cref="Forward"/> runs dot products off W's rows instead of the packed GEMM.</summary>
    public const int MatVecMaxRows = 4;

    /// <summary>
    /// y[r, o] = b[o] + x[r, :]·W[o, :] as one vectorised dot product per output (TensorPrimitives.Dot), output rows
    /// split across threads for large W. No packing: each weight is read once from memory, which is what bounds
    /// this regime (about two FLOPs per 4-byte weight and row).
    /// </summary>
    private static unsafe void ForwardFewRows(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        fixed (float* px = x, pw = w, pb = b, py = y)
        {
            var body = new FewRowsBody(px, pw, b.IsEmpty ? null : pb, py, n, inDim, outDim);
            if (KernelThreads.Max > 1 && (long)outDim * inDim >= Gemm.ParallelThreshold)
            {
                // Chunks of whole cache lines of y per thread, at least 64 outputs each.
                KernelThreads.For(outDim, 64, ref body);
            }
            else
            {
                body.Run(0, outDim);
            }
        }
    }

    private readonly unsafe struct FewRowsBody(float* x, float* w, float* b, float* y, int n, int inDim, int outDim) : IRangeBody
    {
        public void Run(int start, int end)
        {
            for (int o = start; o < end; o++)
            {
                var wo = new ReadOnlySpan<float>(w + ((long)o * inDim), inDim);
                float bias = b is null ? 0f : b[o];
                for (int r = 0; r < n; r++)
                {
                    y[((long)r * outDim) + o] = bias + TensorPrimitives.Dot(new ReadOnlySpan<float>(x + ((long)r * inDim), inDim), wo);
                }
            }
        }
    }

    /// <summary>
    /// Accumulates the gradients of y = x·Wᵀ + b: dx += dy·W, dW += dyᵀ·x, db += column sums of dy.
    /// An empty <paramref name="dx"/>, <paramref name="dw"/> or <paramref name="db"/> skips that gradient.
    /// </summary>
    /// <param name="dy">Gradient of the loss with respect to y, [n, outDim].</param>
    /// <param name="x">The forward input, [n, inDim].</param>
    /// <param name="w">The weights, [outDim, inDim].</param>
    /// <param name="dx">Accumulates the input gradient, [n, inDim], or empty.</param>
    /// <param name="dw">Accumulates the weight gradient, [outDim, inDim], or empty.</param>
    /// <param name="db">Accumulates the bias gradient, [outDim], or empty.</param>
    /// <param name="n">Rows.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        Span<float> dx, Span<float> dw, Span<float> db, int n, int inDim, int outDim)
    {
        ValidateBackward(dy, x, w, dx, dw, db, n, inDim, outDim);
        Gradients(dy, x, w, dx, dw, db, n, inDim, outDim, accumulateDx: true, accumulateDw: true);
    }

    /// <summary>
    /// As <see cref="Backward"/>, choosing for dx and for dW whether to add into them or overwrite them (a layer whose
    /// weight gradient was just zeroed writes dW = dyᵀ·x instead of clearing it first); db always accumulates.
    /// </summary>
    internal static void BackwardInto(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        Span<float> dx, Span<float> dw, Span<float> db, int n, int inDim, int outDim, bool accumulateDx, bool accumulateDw)
    {
        ValidateBackward(dy, x, w, dx, dw, db, n, inDim, outDim);
        Gradients(dy, x, w, dx, dw, db, n, inDim, outDim, accumulateDx, accumulateDw);
    }

    private static unsafe void Gradients(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        Span<float> dx, Span<float> dw, Span<float> db, int n, int inDim, int outDim, bool accumulateDx, bool accumulateDw)
    {
        if (!dx.IsEmpty)
        {
            // dx[n, I] (+)= dy[n, O]·W[O, I]
            Gemm.Multiply(false, false, n, inDim, outDim, dy, outDim, w, inDim, dx, inDim, accumulate: accumulateDx);
        }

        if (!dw.IsEmpty)
        {
            // dW[O, I] (+)= dyᵀ[O, n]·x[n, I]; dy is read transposed straight from its [n, O] storage.
            Gemm.Multiply(true, false, outDim, inDim, n, dy, outDim, x, inDim, dw, inDim, accumulate: accumulateDw);
        }

        if (!db.IsEmpty)
        {
            // db[o] += Σ_n dy[n, o], rows added in order.
            fixed (float* pdb = db, pdy = dy)
            {
                RowVectors.AddColumnSums(pdb, pdy, n, outDim, outDim);
            }
        }
    }

    /// <summary>The forward pass as three plain loops: what <see cref="Forward"/> computes, written to be read.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        ValidateForward(x, w, b, y, n, inDim, outDim);
        for (int r = 0; r < n; r++)
        {
            for (int o = 0; o < outDim; o++)
            {
                float sum = b.IsEmpty ? 0f : b[o];
                for (int i = 0; i < inDim; i++)
                {
                    sum += x[r * inDim + i] * w[o * inDim + i];
                }

                y[r * outDim + o] = sum;
            }
        }
    }

    /// <summary>The backward pass as plain loops, one per gradient: what <see cref="Backward"/> computes.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        Span<float> dx, Span<float> dw, Span<float> db, int n, int inDim, int outDim)
    {
        ValidateBackward(dy, x, w, dx, dw, db, n, inDim, outDim);
        if (!dx.IsEmpty)
        {
            for (int r = 0; r < n; r++)
            {
                for (int i = 0; i < inDim; i++)
                {
                    float sum = 0f;
                    for (int o = 0; o < outDim; o++)
                    {
                        sum += dy[r * outDim + o] * w[o * inDim + i];
                    }

                    dx[r * inDim + i] += sum;
                }
            }
        }

        if (!dw.IsEmpty)
        {
            for (int o = 0; o < outDim; o++)
            {
                for (int i = 0; i < inDim; i++)
                {
                    float sum = 0f;
                    for (int r = 0; r < n; r++)
                    {
                        sum += dy[r * outDim + o] * x[r * inDim + i];
                    }

                    dw[o * inDim + i] += sum;
                }
            }
        }

        if (!db.IsEmpty)
        {
            for (int o = 0; o < outDim; o++)
            {
                float sum = 0f;
                for (int r = 0; r < n; r++)
                {
                    sum += dy[r * outDim + o];
                }

                db[o] += sum;
            }
        }
    }

    // The shape strings are built only on failure: validation runs on every call and must not allocate.
    private static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        ValidateDims(n, inDim, outDim);
        ExactLength(x.Length, (long)n * inDim, nameof(x), "n·inDim", n, inDim);
        ExactLength(w.Length, (long)outDim * inDim, nameof(w), "outDim·inDim", outDim, inDim);
        if (!b.IsEmpty && b.Length != outDim)
        {
            Check.Length(b.Length, outDim, nameof(b), "outDim (or 0 for no bias)");
        }

        MinLength(y.Length, (long)n * outDim, nameof(y), "n·outDim", n, outDim);
        Check.NoOverlap(x, nameof(x), y, nameof(y));
        Check.NoOverlap(w, nameof(w), y, nameof(y));
        Check.NoOverlap(b, nameof(b), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> w,
        Span<float> dx, Span<float> dw, Span<float> db, int n, int inDim, int outDim)
    {
        ValidateDims(n, inDim, outDim);
        ExactLength(dy.Length, (long)n * outDim, nameof(dy), "n·outDim", n, outDim);
        ExactLength(x.Length, (long)n * inDim, nameof(x), "n·inDim", n, inDim);
        ExactLength(w.Length, (long)outDim * inDim, nameof(w), "outDim·inDim", outDim, inDim);
        if (!dx.IsEmpty)
        {
            MinLength(dx.Length, (long)n * inDim, nameof(dx), "n·inDim", n, inDim);
            Check.NoOverlap(dy, nameof(dy), dx, nameof(dx));
            Check.NoOverlap(w, nameof(w), dx, nameof(dx));
        }

        if (!dw.IsEmpty)
        {
            MinLength(dw.Length, (long)outDim * inDim, nameof(dw), "outDim·inDim", outDim, inDim);
            Check.NoOverlap(dy, nameof(dy), dw, nameof(dw));
            Check.NoOverlap(x, nameof(x), dw, nameof(dw));
            Check.NoOverlap(dx, nameof(dx), dw, nameof(dw));
        }

        if (!db.IsEmpty)
        {
            MinLength(db.Length, outDim, nameof(db), "outDim", outDim, 1);
            Check.NoOverlap(dy, nameof(dy), db, nameof(db));
            Check.NoOverlap(dx, nameof(dx), db, nameof(db));
            Check.NoOverlap(dw, nameof(dw), db, nameof(db));
        }
    }

    private static void ValidateDims(int n, int inDim, int outDim)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
    }

    private static void ExactLength(int actual, long expected, string name, string formula, int p, int q)
    {
        if (actual != expected)
        {
            Check.Length(actual, expected, name, q == 1 ? $"{formula} = {p}" : $"{formula} = {p}·{q}");
        }
    }

    private static void MinLength(int actual, long expected, string name, string formula, int p, int q)
    {
        if (actual < expected)
        {
            Check.Destination(actual, expected, name, q == 1 ? $"{formula} = {p}" : $"{formula} = {p}·{q}");
        }
    }
}
