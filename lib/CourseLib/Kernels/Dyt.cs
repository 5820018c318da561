using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Dynamic Tanh (Zhu, Chen, He, LeCun, Liu 2025, "Transformers without Normalization"), a drop-in for LayerNorm,
/// row-wise on x: [N, C] with a scalar α (a span of length 1, so it can live in a parameter buffer) and γ, β: [C].
/// <code>
/// y[r, c]   = γ[c]·tanh(α·x[r, c]) + β[c]
/// t = tanh(α·x),  g = dy·γ·(1 − t²)
/// dx[r, c] += g·α
/// dα       += Σ_{r,c} g·x
/// dγ[c]    += Σ_r dy·t
/// dβ[c]    += Σ_r dy
/// </code>
/// Any gradient span may be empty to skip it. Sums over rows (dα, dγ, dβ) are accumulated in double.
/// tanh is vectorised through expm1 (ActivationMath.Tanh, ≤ 3 ulp, relative-accurate near 0); tanh(±∞) = ±1, NaN → NaN.
/// </summary>
public static class Dyt
{
    /// <summary>Columns per work item of the backward pass: each thread owns whole columns, so dγ/dβ need no locking.</summary>
    private const int ColumnBlock = 64;

    /// <summary>y = γ·tanh(α·x) + β. <paramref name="y"/> may be <paramref name="x"/> itself (in place).</summary>
    /// <param name="x">Input [N, C].</param>
    /// <param name="alpha">α, exactly one element.</param>
    /// <param name="gamma">γ, [C].</param>
    /// <param name="beta">β, [C].</param>
    /// <param name="y">Output [N, C]: x itself or disjoint from every input.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int n, int c)
    {
        ValidateForward(x, alpha, gamma, beta, y, n, c);
        ForwardFast(x, alpha[0], gamma, beta, y, n, c, Vector512.IsHardwareAccelerated);
    }

    /// <summary>Accumulates dx, dα, dγ, dβ (each may be empty to skip).</summary>
    /// <param name="dy">Gradient with respect to y, [N, C].</param>
    /// <param name="x">The forward input [N, C].</param>
    /// <param name="alpha">α, one element.</param>
    /// <param name="gamma">γ, [C].</param>
    /// <param name="dx">[N, C] or empty.</param>
    /// <param name="dalpha">One element or empty.</param>
    /// <param name="dgamma">[C] or empty.</param>
    /// <param name="dbeta">[C] or empty.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Channels C.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dalpha, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        ValidateBackward(dy, x, alpha, gamma, dx, dalpha, dgamma, dbeta, n, c);
        BackwardFast(dy, x, alpha[0], gamma, dx, dalpha, dgamma, dbeta, n, c, Vector512.IsHardwareAccelerated);
    }

    /// <summary>The plain loop, in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int n, int c)
    {
        ValidateForward(x, alpha, gamma, beta, y, n, c);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < c; j++)
            {
                y[r * c + j] = (float)(gamma[j] * Math.Tanh((double)alpha[0] * x[r * c + j]) + beta[j]);
            }
        }
    }

    /// <summary>The plain loop, in double.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dalpha, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        ValidateBackward(dy, x, alpha, gamma, dx, dalpha, dgamma, dbeta, n, c);
        double a = alpha[0], sumAlpha = 0;
        for (int j = 0; j < c; j++)
        {
            double sumGamma = 0, sumBeta = 0;
            for (int r = 0; r < n; r++)
            {
                int i = r * c + j;
                double t = Math.Tanh(a * x[i]);
                double g = dy[i] * gamma[j] * (1 - t * t);
                if (!dx.IsEmpty)
                {
                    dx[i] += (float)(g * a);
                }

                sumAlpha += g * x[i];
                sumGamma += dy[i] * t;
                sumBeta += dy[i];
            }

            if (!dgamma.IsEmpty)
            {
                dgamma[j] += (float)sumGamma;
            }

            if (!dbeta.IsEmpty)
            {
                dbeta[j] += (float)sumBeta;
            }
        }

        if (!dalpha.IsEmpty)
        {
            dalpha[0] += (float)sumAlpha;
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        Shape.Length(x.Length, (long)n * c, nameof(x), "N·C = {0}·{1}", n, c);
        Check.Length(alpha.Length, 1, nameof(alpha), "one scalar");
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        Check.Length(beta.Length, c, nameof(beta), "C");
        Shape.Destination(y.Length, (long)n * c, nameof(y), "N·C = {0}·{1}", n, c);
        Elementwise.SameOrDisjoint(x, nameof(x), y, nameof(y));
        Check.NoOverlap(alpha, nameof(alpha), y, nameof(y));
        Check.NoOverlap(gamma, nameof(gamma), y, nameof(y));
        Check.NoOverlap(beta, nameof(beta), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dalpha, Span<float> dgamma, Span<float> dbeta, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        Shape.Length(dy.Length, (long)n * c, nameof(dy), "N·C = {0}·{1}", n, c);
        Shape.Length(x.Length, (long)n * c, nameof(x), "N·C = {0}·{1}", n, c);
        Check.Length(alpha.Length, 1, nameof(alpha), "one scalar");
        Check.Length(gamma.Length, c, nameof(gamma), "C");
        if (!dx.IsEmpty)
        {
            Shape.Destination(dx.Length, (long)n * c, nameof(dx), "N·C = {0}·{1}", n, c);
        }

        if (!dalpha.IsEmpty)
        {
            Check.Destination(dalpha.Length, 1, nameof(dalpha), "one scalar");
        }

        if (!dgamma.IsEmpty)
        {
            Check.Destination(dgamma.Length, c, nameof(dgamma), "C");
        }

        if (!dbeta.IsEmpty)
        {
            Check.Destination(dbeta.Length, c, nameof(dbeta), "C");
        }

        NotOverlappingInputs(dx, nameof(dx), dy, x, alpha, gamma);
        NotOverlappingInputs(dalpha, nameof(dalpha), dy, x, alpha, gamma);
        NotOverlappingInputs(dgamma, nameof(dgamma), dy, x, alpha, gamma);
        NotOverlappingInputs(dbeta, nameof(dbeta), dy, x, alpha, gamma);
        Check.NoOverlap<float>(dx, nameof(dx), dalpha, nameof(dalpha));
        Check.NoOverlap<float>(dx, nameof(dx), dgamma, nameof(dgamma));
        Check.NoOverlap<float>(dx, nameof(dx), dbeta, nameof(dbeta));
        Check.NoOverlap<float>(dalpha, nameof(dalpha), dgamma, nameof(dgamma));
        Check.NoOverlap<float>(dalpha, nameof(dalpha), dbeta, nameof(dbeta));
        Check.NoOverlap<float>(dgamma, nameof(dgamma), dbeta, nameof(dbeta));
    }

    private static void NotOverlappingInputs(ReadOnlySpan<float> grad, string name,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> alpha, ReadOnlySpan<float> gamma)
    {
        Check.NoOverlap(dy, nameof(dy), grad, name);
        Check.NoOverlap(x, nameof(x), grad, name);
        Check.NoOverlap(alpha, nameof(alpha), grad, name);
        Check.NoOverlap(gamma, nameof(gamma), grad, name);
    }

    // ---------------------------------------------------------------- forward: rows split across threads

    /// <summary>The fast forward; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    internal static unsafe void ForwardFast(ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int n, int c, bool wide)
    {
        int minRows = Math.Max(1, Elementwise.MinPerThread / c);
        if (n < 2 * minRows || KernelThreads.Max == 1)
        {
            ForwardRows(x, alpha, gamma, beta, y, 0, n, c, wide);
            return;
        }

        fixed (float* px = x, pg = gamma, pb = beta, py = y)
        {
            ForwardParallel(px, alpha, pg, pb, py, n, c, wide, minRows);
        }
    }

    private static unsafe void ForwardParallel(float* px, float alpha, float* pg, float* pb, float* py, int n, int c, bool wide, int minRows)
    {
        var body = new ForwardBody(px, alpha, pg, pb, py, n, c, wide);
        KernelThreads.For(n, minRows, ref body);
    }

    private readonly unsafe struct ForwardBody(float* x, float alpha, float* gamma, float* beta, float* y, int n, int c, bool wide)
        : IRangeBody
    {
        public void Run(int start, int end) => ForwardRows(
            new ReadOnlySpan<float>(x, n * c), alpha, new ReadOnlySpan<float>(gamma, c), new ReadOnlySpan<float>(beta, c),
            new Span<float>(y, n * c), start, end, c, wide);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRows(ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y, int r0, int r1, int c, bool wide)
    {
        Span<float> tail = stackalloc float[4 * 16];
        ref float g = ref MemoryMarshal.GetReference(gamma);
        ref float b = ref MemoryMarshal.GetReference(beta);
        for (int r = r0; r < r1; r++)
        {
            ReadOnlySpan<float> xRow = x.Slice(r * c, c);
            Span<float> yRow = y.Slice(r * c, c);
            ref float xr = ref MemoryMarshal.GetReference(xRow);
            ref float yr = ref MemoryMarshal.GetReference(yRow);
            int j = 0;
            if (wide)
            {
                Vector512<float> a = Vector512.Create(alpha);
                for (; j <= c - 16; j += 16)
                {
                    Vector512<float> t = ActivationMath.Tanh(a * Vector512.LoadUnsafe(ref xr, (nuint)j));
                    Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref g, (nuint)j), t, Vector512.LoadUnsafe(ref b, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
                }

                if (j < c)
                {
                    Span<float> bx = tail[..16], bg = tail[16..32], bb = tail[32..48];
                    tail.Clear();
                    xRow[j..].CopyTo(bx);
                    gamma[j..].CopyTo(bg);
                    beta[j..].CopyTo(bb);
                    Vector512<float> t = ActivationMath.Tanh(a * Vector512.Create<float>(bx));
                    Vector512.FusedMultiplyAdd(Vector512.Create<float>(bg), t, Vector512.Create<float>(bb)).CopyTo(bx);
                    bx[..(c - j)].CopyTo(yRow[j..]);
                }
            }
            else
            {
                Vector256<float> a = Vector256.Create(alpha);
                for (; j <= c - 8; j += 8)
                {
                    Vector256<float> t = ActivationMath.Tanh(a * Vector256.LoadUnsafe(ref xr, (nuint)j));
                    Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref g, (nuint)j), t, Vector256.LoadUnsafe(ref b, (nuint)j)).StoreUnsafe(ref yr, (nuint)j);
                }

                if (j < c)
                {
                    Span<float> bx = tail[..8], bg = tail[8..16], bb = tail[16..24];
                    tail.Clear();
                    xRow[j..].CopyTo(bx);
                    gamma[j..].CopyTo(bg);
                    beta[j..].CopyTo(bb);
                    Vector256<float> t = ActivationMath.Tanh(a * Vector256.Create<float>(bx));
                    Vector256.FusedMultiplyAdd(Vector256.Create<float>(bg), t, Vector256.Create<float>(bb)).CopyTo(bx);
                    bx[..(c - j)].CopyTo(yRow[j..]);
                }
            }
        }
    }

    // ---------------------------------------------------------------- backward: column blocks split across threads

    /// <summary>The fast backward; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    internal static unsafe void BackwardFast(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dalpha, Span<float> dgamma, Span<float> dbeta, int n, int c, bool wide)
    {
        int blocks = (c + ColumnBlock - 1) / ColumnBlock;
        int minBlocks = Math.Max(1, Elementwise.MinPerThread / (n * ColumnBlock));
        double sumAlpha;
        if (blocks < 2 * minBlocks || KernelThreads.Max == 1)
        {
            sumAlpha = BackwardColumns(dy, x, alpha, gamma, dx, dgamma, dbeta, n, c, 0, c, wide);
        }
        else
        {
            fixed (float* pdy = dy, px = x, pg = gamma, pdx = dx, pdg = dgamma, pdb = dbeta)
            {
                sumAlpha = BackwardParallel(pdy, px, alpha, pg, pdx, pdg, pdb, dx.IsEmpty, dgamma.IsEmpty, dbeta.IsEmpty, n, c, wide, blocks, minBlocks);
            }
        }

        if (!dalpha.IsEmpty)
        {
            dalpha[0] += (float)sumAlpha;
        }
    }

    private static unsafe double BackwardParallel(float* pdy, float* px, float alpha, float* pg, float* pdx, float* pdg, float* pdb,
        bool noDx, bool noDgamma, bool noDbeta, int n, int c, bool wide, int blocks, int minBlocks)
    {
        double total = 0;
        var body = new BackwardBody(pdy, px, alpha, pg, pdx, pdg, pdb, noDx, noDgamma, noDbeta, n, c, wide, &total);
        KernelThreads.For(blocks, minBlocks, ref body);
        return total;
    }

    /// <summary>Column blocks [start, end); adds their share of dα to <c>*total</c>, which lives on the caller's stack.</summary>
    private readonly unsafe struct BackwardBody(float* dy, float* x, float alpha, float* gamma, float* dx, float* dgamma, float* dbeta,
        bool noDx, bool noDgamma, bool noDbeta, int n, int c, bool wide, double* total) : IRangeBody
    {
        public void Run(int start, int end)
        {
            double part = BackwardColumns(
                new ReadOnlySpan<float>(dy, n * c), new ReadOnlySpan<float>(x, n * c), alpha, new ReadOnlySpan<float>(gamma, c),
                noDx ? default : new Span<float>(dx, n * c), noDgamma ? default : new Span<float>(dgamma, c), noDbeta ? default : new Span<float>(dbeta, c),
                n, c, start * ColumnBlock, Math.Min(c, end * ColumnBlock), wide);
            double seen, sum;
            do
            {
                seen = Volatile.Read(ref *total);
                sum = seen + part;
            }
            while (Interlocked.CompareExchange(ref *total, sum, seen) != seen);
        }
    }

    // Columns [c0, c1) over all rows, ColumnBlock columns at a time; returns this range's share of dα.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double BackwardColumns(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<float> dgamma, Span<float> dbeta, int n, int c, int c0, int c1, bool wide)
    {
        Span<double> acc = stackalloc double[2 * ColumnBlock];
        Span<float> tail = stackalloc float[4 * 16];
        double sumAlpha = 0;
        for (int cb = c0; cb < c1; cb += ColumnBlock)
        {
            int width = Math.Min(ColumnBlock, c1 - cb);
            acc.Clear();
            for (int r = 0; r < n; r++)
            {
                int row = r * c + cb;
                sumAlpha += wide
                    ? BackwardSegment512(dy.Slice(row, width), x.Slice(row, width), alpha, gamma.Slice(cb, width), dx.IsEmpty ? default : dx.Slice(row, width), acc, tail)
                    : BackwardSegment256(dy.Slice(row, width), x.Slice(row, width), alpha, gamma.Slice(cb, width), dx.IsEmpty ? default : dx.Slice(row, width), acc, tail);
            }

            for (int j = 0; j < width; j++)
            {
                if (!dgamma.IsEmpty)
                {
                    dgamma[cb + j] += (float)acc[j];
                }

                if (!dbeta.IsEmpty)
                {
                    dbeta[cb + j] += (float)acc[ColumnBlock + j];
                }
            }
        }

        return sumAlpha;
    }

    // One row's segment of ≤ ColumnBlock columns: dx += g·α, acc[j] += dy·t (dγ), acc[64 + j] += dy (dβ); returns Σ g·x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double BackwardSegment512(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<double> acc, Span<float> tail)
    {
        const int W = 16;
        Vector512<float> a = Vector512.Create(alpha);
        Vector512<float> dAlpha = Vector512<float>.Zero;
        ref double accRef = ref MemoryMarshal.GetReference(acc);
        for (int j = 0; j < x.Length; j += W)
        {
            int w = Math.Min(W, x.Length - j);
            Vector512<float> xv, dyv, gv, dxv = default;
            if (w == W)
            {
                xv = Vector512.Create(x.Slice(j, W));
                dyv = Vector512.Create(dy.Slice(j, W));
                gv = Vector512.Create(gamma.Slice(j, W));
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
                gamma[j..].CopyTo(tail[(2 * W)..]);
                xv = Vector512.Create<float>(tail[..W]);
                dyv = Vector512.Create<float>(tail[W..]);
                gv = Vector512.Create<float>(tail[(2 * W)..]);
                if (!dx.IsEmpty)
                {
                    dx[j..].CopyTo(tail[(3 * W)..]);
                    dxv = Vector512.Create<float>(tail[(3 * W)..]);
                }
            }

            Vector512<float> t = ActivationMath.Tanh(a * xv);
            Vector512<float> g = dyv * gv * (Vector512<float>.One - t * t);
            dAlpha = Vector512.FusedMultiplyAdd(g, xv, dAlpha);
            if (!dx.IsEmpty)
            {
                dxv = Vector512.FusedMultiplyAdd(g, a, dxv);
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

            ActivationMath.AccumulateWidened(ref accRef, (nuint)j, dyv * t);
            ActivationMath.AccumulateWidened(ref accRef, (nuint)(j + ColumnBlock), dyv);
        }

        return Vector512.Sum(dAlpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double BackwardSegment256(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float alpha, ReadOnlySpan<float> gamma,
        Span<float> dx, Span<double> acc, Span<float> tail)
    {
        const int W = 8;
        Vector256<float> a = Vector256.Create(alpha);
        Vector256<float> dAlpha = Vector256<float>.Zero;
        ref double accRef = ref MemoryMarshal.GetReference(acc);
        for (int j = 0; j < x.Length; j += W)
        {
            int w = Math.Min(W, x.Length - j);
            Vector256<float> xv, dyv, gv, dxv = default;
            if (w == W)
            {
                xv = Vector256.Create(x.Slice(j, W));
                dyv = Vector256.Create(dy.Slice(j, W));
                gv = Vector256.Create(gamma.Slice(j, W));
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
                gamma[j..].CopyTo(tail[(2 * W)..]);
                xv = Vector256.Create<float>(tail[..W]);
                dyv = Vector256.Create<float>(tail[W..]);
                gv = Vector256.Create<float>(tail[(2 * W)..]);
                if (!dx.IsEmpty)
                {
                    dx[j..].CopyTo(tail[(3 * W)..]);
                    dxv = Vector256.Create<float>(tail[(3 * W)..]);
                }
            }

            Vector256<float> t = ActivationMath.Tanh(a * xv);
            Vector256<float> g = dyv * gv * (Vector256<float>.One - t * t);
            dAlpha = Vector256.FusedMultiplyAdd(g, xv, dAlpha);
            if (!dx.IsEmpty)
            {
                dxv = Vector256.FusedMultiplyAdd(g, a, dxv);
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

            ActivationMath.AccumulateWidened(ref accRef, (nuint)j, dyv * t);
            ActivationMath.AccumulateWidened(ref accRef, (nuint)(j + ColumnBlock), dyv);
        }

        return Vector256.Sum(dAlpha);
    }
}
