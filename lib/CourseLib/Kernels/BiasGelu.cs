using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Bias add fused with GELU, row-wise on x: [N, C] with bias b: [C] — the first Linear of an FFN computed without
/// its bias, then this kernel: one pass over memory instead of two.
/// <code>
/// y[r, c]    = GELU(x[r, c] + b[c])
/// dx[r, c]  += dy[r, c]·GELU′(x[r, c] + b[c])
/// db[c]     += Σ_r dy[r, c]·GELU′(x[r, c] + b[c])      (summed in double)
/// </code>
/// GELU and its numerics as in <see cref="Gelu"/> (exact erf form by default, or the tanh approximation).
/// dx or dbias may be empty to skip them.
/// </summary>
public static class BiasGelu
{
    private const int ColumnBlock = 64;

    /// <summary>y = GELU(x + b) per row. <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input [N, C] (pre-bias).</param>
    /// <param name="bias">b, [C].</param>
    /// <param name="y">Output [N, C]: x itself or disjoint from x and bias.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    /// <param name="approximate">Exact erf GELU (default) or the tanh approximation.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, GeluApproximation approximate = GeluApproximation.None)
    {
        ValidateForward(x, bias, y, n, c, approximate);
        if (Gelu.Exact(approximate))
        {
            ForwardFast<GeluErfOp>(x, bias, y, n, c, Vector512.IsHardwareAccelerated);
        }
        else
        {
            ForwardFast<GeluTanhOp>(x, bias, y, n, c, Vector512.IsHardwareAccelerated);
        }
    }

    /// <summary>Accumulates dx and dbias (either may be empty to skip it).</summary>
    /// <param name="dy">Gradient with respect to y, [N, C].</param>
    /// <param name="x">The forward input [N, C] (pre-bias).</param>
    /// <param name="bias">b, [C].</param>
    /// <param name="dx">[N, C] or empty; must not overlap any input.</param>
    /// <param name="dbias">[C] or empty; must not overlap any input or dx.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    /// <param name="approximate">The form used in the forward pass.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx, Span<float> dbias,
        int n, int c, GeluApproximation approximate = GeluApproximation.None)
    {
        ValidateBackward(dy, x, bias, dx, dbias, n, c, approximate);
        if (Gelu.Exact(approximate))
        {
            BackwardFast<GeluErfOp>(dy, x, bias, dx, dbias, n, c, Vector512.IsHardwareAccelerated);
        }
        else
        {
            BackwardFast<GeluTanhOp>(dy, x, bias, dx, dbias, n, c, Vector512.IsHardwareAccelerated);
        }
    }

    /// <summary>The plain loop, in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, GeluApproximation approximate = GeluApproximation.None)
    {
        ValidateForward(x, bias, y, n, c, approximate);
        bool exact = Gelu.Exact(approximate);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < c; j++)
            {
                // The sum is rounded to float first, as the fast path (and torch's x + b) does.
                float s = x[r * c + j] + bias[j];
                y[r * c + j] = (float)(exact ? Gelu.ValueExact(s) : Gelu.ValueTanh(s));
            }
        }
    }

    /// <summary>The plain loop, in double.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx, Span<float> dbias,
        int n, int c, GeluApproximation approximate = GeluApproximation.None)
    {
        ValidateBackward(dy, x, bias, dx, dbias, n, c, approximate);
        bool exact = Gelu.Exact(approximate);
        for (int j = 0; j < c; j++)
        {
            double sum = 0;
            for (int r = 0; r < n; r++)
            {
                float s = x[r * c + j] + bias[j];
                double g = dy[r * c + j] * (exact ? Gelu.SlopeExact(s) : Gelu.SlopeTanh(s));
                if (!dx.IsEmpty)
                {
                    dx[r * c + j] += (float)g;
                }

                sum += g;
            }

            if (!dbias.IsEmpty)
            {
                dbias[j] += (float)sum;
            }
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, GeluApproximation approximate)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        Gelu.Exact(approximate);
        Shape.Length(x.Length, (long)n * c, nameof(x), "N·C = {0}·{1}", n, c);
        Check.Length(bias.Length, c, nameof(bias), "C");
        Shape.Destination(y.Length, (long)n * c, nameof(y), "N·C = {0}·{1}", n, c);
        Elementwise.SameOrDisjoint(x, nameof(x), y, nameof(y));
        Check.NoOverlap(bias, nameof(bias), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx, Span<float> dbias,
        int n, int c, GeluApproximation approximate)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        Gelu.Exact(approximate);
        Shape.Length(dy.Length, (long)n * c, nameof(dy), "N·C = {0}·{1}", n, c);
        Shape.Length(x.Length, (long)n * c, nameof(x), "N·C = {0}·{1}", n, c);
        Check.Length(bias.Length, c, nameof(bias), "C");
        if (!dx.IsEmpty)
        {
            Shape.Destination(dx.Length, (long)n * c, nameof(dx), "N·C = {0}·{1}", n, c);
        }

        if (!dbias.IsEmpty)
        {
            Check.Destination(dbias.Length, c, nameof(dbias), "C");
        }

        Check.NoOverlap(dy, nameof(dy), dx, nameof(dx));
        Check.NoOverlap(x, nameof(x), dx, nameof(dx));
        Check.NoOverlap(bias, nameof(bias), dx, nameof(dx));
        Check.NoOverlap(dy, nameof(dy), dbias, nameof(dbias));
        Check.NoOverlap(x, nameof(x), dbias, nameof(dbias));
        Check.NoOverlap(bias, nameof(bias), dbias, nameof(dbias));
        Check.NoOverlap<float>(dx, nameof(dx), dbias, nameof(dbias));
    }

    // ---------------------------------------------------------------- forward: rows split across threads

    /// <summary>The fast forward; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    internal static unsafe void ForwardFast<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int n, int c, bool wide)
        where TOp : struct, IActivation
    {
        int minRows = Math.Max(1, Elementwise.MinPerThread / c);
        if (n < 2 * minRows || KernelThreads.Max == 1)
        {
            ForwardRows<TOp>(x, bias, y, 0, n, c, wide);
            return;
        }

        fixed (float* px = x, pb = bias, py = y)
        {
            ForwardParallel<TOp>(px, pb, py, n, c, wide, minRows);
        }
    }

    private static unsafe void ForwardParallel<TOp>(float* px, float* pb, float* py, int n, int c, bool wide, int minRows)
        where TOp : struct, IActivation
    {
        var body = new ForwardBody<TOp>(px, pb, py, n, c, wide);
        KernelThreads.For(n, minRows, ref body);
    }

    private readonly unsafe struct ForwardBody<TOp>(float* x, float* bias, float* y, int n, int c, bool wide) : IRangeBody
        where TOp : struct, IActivation
    {
        public void Run(int start, int end) => ForwardRows<TOp>(
            new ReadOnlySpan<float>(x, n * c), new ReadOnlySpan<float>(bias, c), new Span<float>(y, n * c), start, end, c, wide);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int r0, int r1, int c, bool wide)
        where TOp : struct, IActivation
    {
        Span<float> tail = stackalloc float[2 * 16];
        ref float b = ref MemoryMarshal.GetReference(bias);
        for (int r = r0; r < r1; r++)
        {
            ReadOnlySpan<float> xRow = x.Slice(r * c, c);
            Span<float> yRow = y.Slice(r * c, c);
            ref float xr = ref MemoryMarshal.GetReference(xRow);
            ref float yr = ref MemoryMarshal.GetReference(yRow);
            int j = 0;
            if (wide)
            {
                for (; j <= c - 16; j += 16)
                {
                    TOp.Value(Vector512.LoadUnsafe(ref xr, (nuint)j) + Vector512.LoadUnsafe(ref b, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
                }

                if (j < c)
                {
                    Span<float> bx = tail[..16], bb = tail[16..32];
                    tail.Clear();
                    xRow[j..].CopyTo(bx);
                    bias[j..].CopyTo(bb);
                    TOp.Value(Vector512.Create<float>(bx) + Vector512.Create<float>(bb)).CopyTo(bx);
                    bx[..(c - j)].CopyTo(yRow[j..]);
                }
            }
            else
            {
                for (; j <= c - 8; j += 8)
                {
                    TOp.Value(Vector256.LoadUnsafe(ref xr, (nuint)j) + Vector256.LoadUnsafe(ref b, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
                }

                if (j < c)
                {
                    Span<float> bx = tail[..8], bb = tail[8..16];
                    tail.Clear();
                    xRow[j..].CopyTo(bx);
                    bias[j..].CopyTo(bb);
                    TOp.Value(Vector256.Create<float>(bx) + Vector256.Create<float>(bb)).CopyTo(bx);
                    bx[..(c - j)].CopyTo(yRow[j..]);
                }
            }
        }
    }

    // ---------------------------------------------------------------- backward: column blocks split across threads

    /// <summary>The fast backward; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    internal static unsafe void BackwardFast<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx, Span<float> dbias,
        int n, int c, bool wide)
        where TOp : struct, IActivation
    {
        if (dx.IsEmpty && dbias.IsEmpty)
        {
            return;
        }

        int blocks = (c + ColumnBlock - 1) / ColumnBlock;
        int minBlocks = Math.Max(1, Elementwise.MinPerThread / (n * ColumnBlock));
        if (blocks < 2 * minBlocks || KernelThreads.Max == 1)
        {
            BackwardColumns<TOp>(dy, x, bias, dx, dbias, n, c, 0, c, wide);
            return;
        }

        fixed (float* pdy = dy, px = x, pb = bias, pdx = dx, pdb = dbias)
        {
            BackwardParallel<TOp>(pdy, px, pb, pdx, pdb, dx.IsEmpty, dbias.IsEmpty, n, c, wide, blocks, minBlocks);
        }
    }

    private static unsafe void BackwardParallel<TOp>(float* pdy, float* px, float* pb, float* pdx, float* pdb, bool noDx, bool noDbias,
        int n, int c, bool wide, int blocks, int minBlocks)
        where TOp : struct, IActivation
    {
        var body = new BackwardBody<TOp>(pdy, px, pb, pdx, pdb, noDx, noDbias, n, c, wide);
        KernelThreads.For(blocks, minBlocks, ref body);
    }

    private readonly unsafe struct BackwardBody<TOp>(float* dy, float* x, float* bias, float* dx, float* dbias, bool noDx, bool noDbias,
        int n, int c, bool wide) : IRangeBody
        where TOp : struct, IActivation
    {
        public void Run(int start, int end) => BackwardColumns<TOp>(
            new ReadOnlySpan<float>(dy, n * c), new ReadOnlySpan<float>(x, n * c), new ReadOnlySpan<float>(bias, c),
            noDx ? default : new Span<float>(dx, n * c), noDbias ? default : new Span<float>(dbias, c),
            n, c, start * ColumnBlock, Math.Min(c, end * ColumnBlock), wide);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardColumns<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx, Span<float> dbias,
        int n, int c, int c0, int c1, bool wide)
        where TOp : struct, IActivation
    {
        Span<double> acc = stackalloc double[ColumnBlock];
        Span<float> tail = stackalloc float[4 * 16];
        for (int cb = c0; cb < c1; cb += ColumnBlock)
        {
            int width = Math.Min(ColumnBlock, c1 - cb);
            acc.Clear();
            for (int r = 0; r < n; r++)
            {
                int row = r * c + cb;
                Span<float> dxSeg = dx.IsEmpty ? default : dx.Slice(row, width);
                if (wide)
                {
                    BackwardSegment512<TOp>(dy.Slice(row, width), x.Slice(row, width), bias.Slice(cb, width), dxSeg, acc, tail);
                }
                else
                {
                    BackwardSegment256<TOp>(dy.Slice(row, width), x.Slice(row, width), bias.Slice(cb, width), dxSeg, acc, tail);
                }
            }

            if (!dbias.IsEmpty)
            {
                for (int j = 0; j < width; j++)
                {
                    dbias[cb + j] += (float)acc[j];
                }
            }
        }
    }

    // One row's segment of ≤ ColumnBlock columns: g = dy·GELU′(x + b); dx += g; acc[j] += g.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardSegment512<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx,
        Span<double> acc, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 16;
        ref double accRef = ref MemoryMarshal.GetReference(acc);
        for (int j = 0; j < x.Length; j += W)
        {
            int w = Math.Min(W, x.Length - j);
            Vector512<float> xv, dyv, bv, dxv = default;
            if (w == W)
            {
                xv = Vector512.Create(x.Slice(j, W));
                dyv = Vector512.Create(dy.Slice(j, W));
                bv = Vector512.Create(bias.Slice(j, W));
                if (!dx.IsEmpty)
                {
                    dxv = Vector512.Create<float>(dx.Slice(j, W));
                }
            }
            else
            {
                tail.Clear();
                x[j..].CopyTo(tail[..W]);
                dy[j..].CopyTo(tail[W..]);
                bias[j..].CopyTo(tail[(2 * W)..]);
                xv = Vector512.Create<float>(tail[..W]);
                dyv = Vector512.Create<float>(tail[W..]);
                bv = Vector512.Create<float>(tail[(2 * W)..]);
                if (!dx.IsEmpty)
                {
                    dx[j..].CopyTo(tail[(3 * W)..]);
                    dxv = Vector512.Create<float>(tail[(3 * W)..]);
                }
            }

            Vector512<float> g = dyv * TOp.Slope(xv + bv, out _);
            if (!dx.IsEmpty)
            {
                dxv += g;
                if (w == W)
                {
                    dxv.CopyTo(dx.Slice(j, W));
                }
                else
                {
                    dxv.CopyTo(tail[(3 * W)..]);
                    tail.Slice(3 * W, w).CopyTo(dx[j..]);
                }
            }

            ActivationMath.AccumulateWidened(ref accRef, (nuint)j, g);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardSegment256<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> dx,
        Span<double> acc, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 8;
        ref double accRef = ref MemoryMarshal.GetReference(acc);
        for (int j = 0; j < x.Length; j += W)
        {
            int w = Math.Min(W, x.Length - j);
            Vector256<float> xv, dyv, bv, dxv = default;
            if (w == W)
            {
                xv = Vector256.Create(x.Slice(j, W));
                dyv = Vector256.Create(dy.Slice(j, W));
                bv = Vector256.Create(bias.Slice(j, W));
                if (!dx.IsEmpty)
                {
                    dxv = Vector256.Create<float>(dx.Slice(j, W));
                }
            }
            else
            {
                tail.Clear();
                x[j..].CopyTo(tail[..W]);
                dy[j..].CopyTo(tail[W..]);
                bias[j..].CopyTo(tail[(2 * W)..]);
                xv = Vector256.Create<float>(tail[..W]);
                dyv = Vector256.Create<float>(tail[W..]);
                bv = Vector256.Create<float>(tail[(2 * W)..]);
                if (!dx.IsEmpty)
                {
                    dx[j..].CopyTo(tail[(3 * W)..]);
                    dxv = Vector256.Create<float>(tail[(3 * W)..]);
                }
            }

            Vector256<float> g = dyv * TOp.Slope(xv + bv, out _);
            if (!dx.IsEmpty)
            {
                dxv += g;
                if (w == W)
                {
                    dxv.CopyTo(dx.Slice(j, W));
                }
                else
                {
                    dxv.CopyTo(tail[(3 * W)..]);
                    tail.Slice(3 * W, w).CopyTo(dx[j..]);
                }
            }

            ActivationMath.AccumulateWidened(ref accRef, (nuint)j, g);
        }
    }
}
