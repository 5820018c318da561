// C[m, n] = (accumulate ? C : bias) + op(A)[m, k] · op(B)[k, n]     row-major, float32, float accumulation
//   bias: a row of n added to every row of C when not accumulating (Linear's b), or none (zeros)
//   op(A) = A[m, k] (lda ≥ k)  or, with transA, Aᵀ where A is stored [k, m] (lda ≥ m)
//   op(B) = B[k, n] (ldb ≥ n)  or, with transB, Bᵀ where B is stored [n, k] (ldb ≥ k)
//
// The classic Goto/BLIS structure, sized for Zen 4 (L1d 32 KB, L2 1 MB per core):
//   for each column block of C, ≤ NC = 1024 wide   (the packed B block, KC × NC, streams from L2/L3)
//     for each slice of k, ≤ KC = 384 deep         (pack op(B)[KC, NC] into 32-wide column panels)
//       for each block of MC = 96 rows             (pack op(A)[MC, KC] as 12-row strips, 144 KB in L2)
//         for each 12-row strip                    (18 KB: stays in L1 while ...)
//           for each 32-wide panel of the B block  (... the B panels stream past it)
//             micro-kernel: a 12 × 32 tile of C in 24 zmm registers, KC rank-1 updates (broadcast 12 values
//             of A, load 32 of B, 24 FMAs per step), then one load/store of the C tile
// Packing turns every layout (normal or transposed, via 16 × 16 register transposes) into the same unit-stride
// panels, so one micro-kernel serves all three products Linear needs: NT (x·Wᵀ), NN (dy·W) and TN (dyᵀ·x).
// Small products (a block ≤ 512 KB, rows ≤ 2 KB apart: the lesson-sized models) skip the packs the kernel does
// not need: it reads A strips (either layout) and non-transposed B panels where they lie, with strides (see
// ReadsADirectly); only Wᵀ in x·Wᵀ is still transposed into panels.
// Without AVX-512 the same loops run a 6 × 16 AVX2 tile, and without either a 4 × 4 scalar one.
// Two threads split C into two rectangles of whole tiles along its longer side; each packs its own panels, so
// the result is bitwise the same for any thread count.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>Which micro-kernel family runs; <see cref="Auto"/> picks the widest the CPU accelerates.</summary>
internal enum GemmPath
{
    /// <summary>Vector512 when accelerated, else Vector256, else scalar.</summary>
    Auto,

    /// <summary>AVX-512 tiles (forced only where the CPU has it).</summary>
    Vector512,

    /// <summary>AVX2 tiles.</summary>
    Vector256,

    /// <summary>Plain loops over the same packed panels.</summary>
    Scalar,
}

/// <summary>
/// Packed, register-blocked, cache-blocked single-precision matrix product. Internal: <see cref="Linear"/> is
/// the public face; tests and benchmarks reach it directly through InternalsVisibleTo.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>Depth of one packed slice of k: the A strip (MR·KC·4 = 18 KB) stays in the 32 KB L1 beside the streaming B panel.</summary>
    internal const int KC = 384;

    /// <summary>Width of one packed B block. KC·NC·4 = 1.5 MB overflows the 1 MB L2 a little, but measured faster than 480 (720 KB): fewer blocks means fewer passes of packing A (most visible for dW = dyᵀ·x, whose A pack reads dy with a stride), and the B panels stream well from L3.</summary>
    internal const int NC = 1024;

    /// <summary>
    /// Largest block (KC·NC floats, 512 KB) whose operands the AVX-512 path may read in place instead of packing:
    /// the lesson-sized products (C ≤ 128, T ≤ 256), where packing costs a tenth of the product. Measured on Zen 5
    /// (old and new library in one process, alternating): Linear up to 12 % faster forward and 4–18 % faster backward
    /// there, a C = 128 training step ~5 %; the benchmark's large shapes pack as before (within ±2 %).
    /// </summary>
    internal const int DirectReadBlock = 128 * 1024;

    /// <summary>Largest leading dimension (floats, 2 KB) of an operand read in place; see <see cref="ReadsADirectly"/>.</summary>
    internal const int DirectReadStride = 512;

    /// <summary>Rows of A packed per block (a multiple of every tile height): 96·KC·4 = 144 KB, in L2 beside the B block.</summary>
    internal const int MC = 96;

    /// <summary>Rows of the AVX-512 tile (registers: 12·2 accumulators + 2 B rows + 1 broadcast ≤ 32 zmm).</summary>
    internal const int MR512 = 12;

    /// <summary>Columns of the AVX-512 tile: two zmm registers.</summary>
    internal const int NR512 = 32;

    private const int MR256 = 6;
    private const int NR256 = 16;
    private const int MRScalar = 4;
    private const int NRScalar = 4;

    /// <summary>Below this many multiply-adds (m·n·k) one thread is faster than handing half the work to another.</summary>
    internal const long ParallelThreshold = 1L << 20;

    [ThreadStatic]
    private static Workspace? t_workspace;

    /// <summary>
    /// C = (accumulate ? C : bias) + op(A)·op(B), where a non-empty <paramref name="bias"/> (n floats) starts every row
    /// of C (as if C had been filled with it and accumulated into; used only when not accumulating) and an empty one
    /// means zeros. The bias joins each tile in registers, so C is not written twice. Spans must cover the addressed
    /// elements; callers (Linear) validate shapes, so this only asserts the preconditions.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate,
        GemmPath path = GemmPath.Auto, int maxThreads = 0, ReadOnlySpan<float> bias = default)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        bool withBias = !accumulate && !bias.IsEmpty;
        if (withBias && bias.Length < n)
        {
            throw new ArgumentException($"Gemm bias too short: {bias.Length}/{n}.");
        }

        if (k <= 0)
        {
            for (int i = 0; i < m && !accumulate; i++)
            {
                if (withBias)
                {
                    bias[..n].CopyTo(c.Slice(i * ldc, n));
                }
                else
                {
                    c.Slice(i * ldc, n).Clear();
                }
            }

            return;
        }

        // Guard the pointer arithmetic below: every addressed element must lie inside its span.
        long needA = transA ? (long)(k - 1) * lda + m : (long)(m - 1) * lda + k;
        long needB = transB ? (long)(n - 1) * ldb + k : (long)(k - 1) * ldb + n;
        long needC = (long)(m - 1) * ldc + n;
        if (a.Length < needA || b.Length < needB || c.Length < needC)
        {
            throw new ArgumentException($"Gemm operands too short: A {a.Length}/{needA}, B {b.Length}/{needB}, C {c.Length}/{needC}.");
        }

        if (path == GemmPath.Auto)
        {
            path = Vector512.IsHardwareAccelerated ? GemmPath.Vector512
                : Vector256.IsHardwareAccelerated ? GemmPath.Vector256
                : GemmPath.Scalar;
        }

        if (path == GemmPath.Vector512 && !Vector512.IsHardwareAccelerated)
        {
            path = GemmPath.Vector256;
        }

        int threads = maxThreads > 0 ? maxThreads : KernelThreads.Max;
        if ((long)m * n * k < ParallelThreshold)
        {
            threads = 1;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        {
            var job = new Job(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, path, withBias ? pbias : null);
            if (threads <= 1)
            {
                Run(in job, 0, m, 0, n);
            }
            else
            {
                RunParallel(in job, threads);
            }
        }
    }

    /// <summary>
    /// Splits C into one rectangle per thread along its longer side, aligned to whole tiles, so each thread packs
    /// its own panels and no synchronisation is needed inside the blocked loops.
    /// </summary>
    private static void RunParallel(in Job job, int threads)
    {
        (int mr, int nr) = Tile(job.Path);
        bool splitN = job.N >= job.M;
        int tile = splitN ? nr : mr;
        int extent = splitN ? job.N : job.M;
        int tiles = (extent + tile - 1) / tile;
        threads = Math.Min(threads, tiles);
        if (threads <= 1)
        {
            Run(in job, 0, job.M, 0, job.N);
            return;
        }

        var parts = new Parts(job, splitN, tile, tiles, extent, threads);
        KernelThreads.For(threads, 1, ref parts);
    }

    private static (int Mr, int Nr) Tile(GemmPath path) => path switch
    {
        GemmPath.Vector512 => (MR512, NR512),
        GemmPath.Vector256 => (MR256, NR256),
        _ => (MRScalar, NRScalar),
    };

    /// <summary>The blocked loops over the sub-rectangle C[i0..i1, j0..j1] on the calling thread.</summary>
    private static void Run(in Job job, int i0, int i1, int j0, int j1)
    {
        (int mr, int nr) = Tile(job.Path);
        Workspace ws = t_workspace ??= new Workspace();
        // Equal blocks rather than full ones plus a sliver: K = 512 runs as 2 × 256, not 384 + 128, because every
        // slice of k costs a pass over C and a thin last slice pays it for little work. Slices are multiples of
        // 16 (the packing transposes) and blocks multiples of the tile width, so each can exceed KC / NC by less
        // than that; the buffers leave room.
        int slices = (job.K + KC - 1) / KC;
        int kcStep = RoundUp((job.K + slices - 1) / slices, 16);
        int blocks = (j1 - j0 + NC - 1) / NC;
        int ncStep = RoundUp((j1 - j0 + blocks - 1) / blocks, nr);
        float* abuf = ws.A((MC * (KC + 16)) + (16 * MC) + 16);
        // Strips sit 16 floats apart: the packers store whole vectors, and a strip's last store may spill that far.
        nint stripStride = ((nint)mr * kcStep) + 16;
        float* bbuf = ws.B((KC + 16) * (NC + nr));
        float* tile = ws.Tile(mr * nr);

        for (int jc = j0; jc < j1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, j1 - jc);
            for (int pc = 0; pc < job.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, job.K - pc);
                bool small = (long)kc * nc <= DirectReadBlock;
                PackB(in job, pc, kc, jc, nc, nr, bbuf, small);
                if (ReadsBDirectly(in job, nr, nr, small))
                {
                    PrefetchBlock(job.B + ((nint)pc * job.Ldb) + jc, job.Ldb, kc, nc);
                }

                // The first slice of k writes C (starting from the bias, if any) unless the caller asked to
                // accumulate into it.
                bool load = job.Accumulate || pc > 0;
                for (int ib = i0; ib < i1; ib += MC)
                {
                    // Pack a block of strips back to back: for a transposed A (dyᵀ) each source row is then read
                    // as one run of MC floats while its cache lines are hot, not 12 floats per visit.
                    int iEnd = Math.Min(i1, ib + MC);
                    int full = job.TransA && !ReadsADirectly(in job, mr, small) && Vector512.IsHardwareAccelerated ? PackATransposedFullStrips(in job, ib, iEnd, pc, kc, mr, abuf, stripStride) : 0;
                    for (int ic = ib + (full * mr); ic < iEnd; ic += mr)
                    {
                        int rows = Math.Min(mr, iEnd - ic);
                        if (!ReadsADirectly(in job, rows, small))
                        {
                            PackA(in job, ic, rows, pc, kc, StripTile(job.Path, rows, mr), abuf + ((ic - ib) / mr * stripStride));
                        }
                    }

                    for (int ic = ib; ic < iEnd; ic += mr)
                    {
                        int rows = Math.Min(mr, iEnd - ic);
                        int tmr = StripTile(job.Path, rows, mr);
                        // The kernel reads op(A)[i, p] at ap[i·rs + p·ks]: packed, or A in place.
                        bool directA = ReadsADirectly(in job, rows, small);
                        float* ap = !directA ? abuf + ((ic - ib) / mr * stripStride)
                            : job.TransA ? job.A + ((nint)pc * job.Lda) + ic : job.A + ((nint)ic * job.Lda) + pc;
                        nint rs = !directA ? 1 : job.TransA ? 1 : job.Lda, ks = !directA ? tmr : job.TransA ? job.Lda : 1;
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            // ... and op(B)[p, jr..jr + nr) at bp + p·bs: packed, or in place when B is not transposed.
                            bool directB = ReadsBDirectly(in job, cols, nr, small);
                            float* bp = directB ? job.B + ((nint)pc * job.Ldb) + jc + jr : bbuf + ((nint)jr * kc);
                            nint bs = directB ? job.Ldb : nr;
                            float* cp = job.C + (nint)ic * job.Ldc + jc + jr;
                            float* bias = load || job.Bias == null ? null : job.Bias + jc + jr;
                            if (rows == tmr && cols == nr)
                            {
                                Kernel(job.Path, tmr, kc, ap, rs, ks, bp, bs, cp, job.Ldc, load, bias);
                            }
                            else
                            {
                                // Edge tile: compute the full (zero-padded) tile aside, then merge only the valid part.
                                Kernel(job.Path, tmr, kc, ap, rs, ks, bp, bs, tile, nr, false, null);
                                MergeEdge(tile, nr, cp, job.Ldc, rows, cols, load, bias);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Whether a strip of <paramref name="rows"/> rows of op(A) is read where it lies instead of packed. The AVX-512
    /// tiles broadcast A one value at a time, so either layout serves: A (row i at stride lda, unit stride in k) or Aᵀ
    /// (dyᵀ in dW = dyᵀ·x: 12 neighbours per step of k, steps lda apart). Packing would only copy, or for A transpose,
    /// the values the kernel reads anyway. Only for a small block (<see cref="DirectReadBlock"/>) with rows ≤ 2 KB
    /// apart: what the strip touches must then stay in L1 without evicting itself (at a 4 KB stride every row maps to
    /// the same sets). A ragged strip still packs: its zero rows must come from somewhere.
    /// </summary>
    private static bool ReadsADirectly(in Job job, int rows, bool smallBlock) =>
        smallBlock && job.Lda <= DirectReadStride && job.Path == GemmPath.Vector512
        && rows == StripTile(job.Path, rows, Tile(job.Path).Mr);

    /// <summary>
    /// Whether a whole panel of op(B) = B is read where it lies (B transposed always packs): each step of k is then
    /// a contiguous run of B's row, exactly what the packed panel would hold. Only for a small block, which stays in
    /// L2 across the strips that reread it, with rows ≤ 2 KB apart; a ragged panel still packs (zero columns).
    /// </summary>
    private static bool ReadsBDirectly(in Job job, int cols, int nr, bool smallBlock) =>
        !job.TransB && smallBlock && job.Ldb <= DirectReadStride && job.Path == GemmPath.Vector512 && cols == nr;

    /// <summary>
    /// Requests every line of a block of B that the kernel will read in place (<see cref="ReadsBDirectly"/>), row after
    /// row, before the strips start. In a training step that B is cold: W in dx = dy·W was last read in the forward pass,
    /// x in dW = dyᵀ·x was written there, and the first strip reads the block panel by panel, a few lines of each row
    /// 0.5–2 KB apart. Measured with every buffer evicted first, the lesson-sized backward products (N = 256, C = 128,
    /// hidden 512) lost 7–25 µs each to that and got 3–12 µs of it back; a C = 128, 6-layer training step 1.1–1.6 % faster
    /// (both builds in one process, four runs). In cache the same products measured 0–2 % slower, inside this VM's
    /// noise: at most kc·nc/16 + kc requests against m·kc·nc multiply-adds.
    /// </summary>
    private static void PrefetchBlock(float* b, int ldb, int kc, int nc)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        for (int p = 0; p < kc; p++)
        {
            RowPrefetch.Row(b + ((nint)p * ldb), nc);
        }
    }

    /// <summary>The last strip uses the smallest tile that covers it rather than padding to mr.</summary>
    private static int StripTile(GemmPath path, int rows, int mr) =>
        path == GemmPath.Vector512 && rows <= 8 ? (rows <= 4 ? 4 : 8) : mr;

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(GemmPath path, int rows, int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool load, float* bias)
    {
        switch (path)
        {
            case GemmPath.Vector512 when rows == MR512:
                Kernel512x12x32(kc, a, rs, ks, b, bs, c, ldc, load, bias);
                break;
            case GemmPath.Vector512 when rows == 8:
                Kernel512x8x32(kc, a, rs, ks, b, bs, c, ldc, load, bias);
                break;
            case GemmPath.Vector512:
                Kernel512x4x32(kc, a, rs, ks, b, bs, c, ldc, load, bias);
                break;
            case GemmPath.Vector256:
                Kernel256x6x16(kc, a, b, c, ldc, load, bias);
                break;
            default:
                KernelScalar(kc, a, b, c, ldc, load, bias);
                break;
        }
    }

    /// <summary>The same tile product in plain loops (4 × 4), for CPUs without 256-bit vectors.</summary>
    private static void KernelScalar(int kc, float* a, float* b, float* c, int ldc, bool load, float* bias)
    {
        float* acc = stackalloc float[MRScalar * NRScalar];
        new Span<float>(acc, MRScalar * NRScalar).Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < MRScalar; i++)
            {
                float ai = a[i];
                for (int j = 0; j < NRScalar; j++)
                {
                    acc[i * NRScalar + j] = MathF.FusedMultiplyAdd(ai, b[j], acc[i * NRScalar + j]);
                }
            }

            a += MRScalar;
            b += NRScalar;
        }

        for (int i = 0; i < MRScalar; i++)
        {
            for (int j = 0; j < NRScalar; j++)
            {
                float sum = acc[i * NRScalar + j];
                c[i * ldc + j] = load ? c[i * ldc + j] + sum : bias != null ? sum + bias[j] : sum;
            }
        }
    }

    private static void MergeEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, bool load, float* bias)
    {
        for (int i = 0; i < rows; i++)
        {
            var src = new ReadOnlySpan<float>(tile + (nint)i * nr, cols);
            var dst = new Span<float>(c + (nint)i * ldc, cols);
            if (load)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
            }
            else if (bias != null)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(src, new ReadOnlySpan<float>(bias, cols), dst);
            }
            else
            {
                src.CopyTo(dst);
            }
        }
    }

    /// <summary>
    /// Packs op(A)[ic..ic+rows, pc..pc+kc] as dst[p·mr + i], zero-filling rows ≥ <paramref name="rows"/> so edge
    /// tiles run the same kernel.
    /// </summary>
    private static void PackA(in Job job, int ic, int rows, int pc, int kc, int mr, float* dst)
    {
        if (job.TransA)
        {
            // op(A)[i, p] = A[p, i]: each step of k is a contiguous run of rows.
            float* src = job.A + (nint)pc * job.Lda + ic;
            if (Vector512.IsHardwareAccelerated && ic + 16 <= job.M && rows == mr)
            {
                // 16 contiguous values cover the strip (the tail belongs to the next strip and is overwritten
                // by the next store; ic + 16 ≤ m keeps the load inside the row).
                for (int p = 0; p < kc; p++)
                {
                    Vector512.Load(src + (nint)p * job.Lda).Store(dst + (nint)p * mr);
                }

                return;
            }

            for (int p = 0; p < kc; p++)
            {
                float* s = src + (nint)p * job.Lda;
                float* d = dst + (nint)p * mr;
                int i = 0;
                for (; i < rows; i++)
                {
                    d[i] = s[i];
                }

                for (; i < mr; i++)
                {
                    d[i] = 0f;
                }
            }
        }
        else if (Avx512F.IsSupported)
        {
            // op(A)[i, p] = A[i, p]: a transpose, 16 values of k at a time through registers. Each transposed
            // vector holds 16 rows of which the first mr count; the next store (mr floats further) overwrites the
            // rest, and the buffer has 16 floats of slack for the last one.
            float* src = job.A + (nint)ic * job.Lda + pc;
            int p = 0;
            for (; p + 16 <= kc; p += 16)
            {
                Transpose16(src + p, job.Lda, rows, dst + (nint)p * mr, mr);
            }

            for (; p < kc; p++)
            {
                float* d = dst + (nint)p * mr;
                int i = 0;
                for (; i < rows; i++)
                {
                    d[i] = src[(nint)i * job.Lda + p];
                }

                for (; i < mr; i++)
                {
                    d[i] = 0f;
                }
            }
        }
        else
        {
            // op(A)[i, p] = A[i, p]: a transpose. Walk each source row once (unit stride) and scatter it.
            for (int i = 0; i < rows; i++)
            {
                float* s = job.A + (nint)(ic + i) * job.Lda + pc;
                float* d = dst + i;
                for (int p = 0; p < kc; p++)
                {
                    d[(nint)p * mr] = s[p];
                }
            }

            for (int i = rows; i < mr; i++)
            {
                for (int p = 0; p < kc; p++)
                {
                    dst[(nint)p * mr + i] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// For op(A) = Aᵀ (A stored [k, m]): packs every full strip of rows ib..iEnd, walking k in the outer loop so
    /// each source row is read as one contiguous run (whole cache lines) instead of being revisited once per
    /// strip. Returns how many strips it packed; the caller packs the rest (a partial strip, or one whose
    /// 16-float load would run past the row).
    /// </summary>
    private static int PackATransposedFullStrips(in Job job, int ib, int iEnd, int pc, int kc, int mr, float* dst, nint stripStride)
    {
        int strips = 0;
        while (ib + ((strips + 1) * mr) <= iEnd && ib + (strips * mr) + 16 <= job.M)
        {
            strips++;
        }

        float* src = job.A + (nint)pc * job.Lda + ib;
        for (int p = 0; p < kc; p++)
        {
            float* s = src + (nint)p * job.Lda;
            float* d = dst + (nint)p * mr;
            for (int q = 0; q < strips; q++)
            {
                Vector512.Load(s + (q * mr)).Store(d + (q * stripStride));
            }
        }

        return strips;
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] into consecutive nr-wide column panels, panel q at dst + q·nr·kc laid
    /// out as [p·nr + j], zero-filling columns past <paramref name="nc"/>; whole panels the kernel reads in place
    /// (<paramref name="smallBlock"/>, see <see cref="ReadsBDirectly"/>) are skipped.
    /// </summary>
    private static void PackB(in Job job, int pc, int kc, int jc, int nc, int nr, float* dst, bool smallBlock)
    {
        int start = 0;
        if (ReadsBDirectly(in job, nr, nr, smallBlock))
        {
            // Whole panels the kernel reads in place need no copy; a ragged last one still needs its zero columns.
            start = nc / nr * nr;
        }
        else if (!job.TransB && nr == 32 && Vector512.IsHardwareAccelerated)
        {
            // Row by row across all full panels: each source row is read front to back, which is how memory
            // streams best when B (W in dx = dy·W) comes from DRAM; panel q receives 32 floats per row.
            int panels = nc / 32;
            float* src = job.B + (nint)pc * job.Ldb + jc;
            for (int p = 0; p < kc; p++)
            {
                float* s = src + (nint)p * job.Ldb;
                float* d = dst + (nint)p * 32;
                for (int q = 0; q < panels; q++)
                {
                    Vector512.Load(s + (q * 32)).Store(d + ((nint)q * kc * 32));
                    Vector512.Load(s + (q * 32) + 16).Store(d + ((nint)q * kc * 32) + 16);
                }
            }

            start = panels * 32;
        }

        for (int jr = start; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + (nint)jr * kc;
            if (!job.TransB)
            {
                // op(B)[p, j] = B[p, j]: each step of k copies one contiguous run of the row.
                float* src = job.B + (nint)pc * job.Ldb + jc + jr;
                for (int p = 0; p < kc; p++)
                {
                    var s = new ReadOnlySpan<float>(src + (nint)p * job.Ldb, cols);
                    var d = new Span<float>(panel + (nint)p * nr, nr);
                    s.CopyTo(d);
                    d.Slice(cols).Clear();
                }
            }
            else
            {
                // op(B)[p, j] = B[j, p] (nn.Linear's W): a transpose, done in 16 × 16 register blocks where possible.
                PackTransposed(job.B + (nint)(jc + jr) * job.Ldb + pc, job.Ldb, cols, kc, nr, panel);
            }
        }
    }

    /// <summary>dst[p·nr + j] = src[j·ld + p] for j &lt; cols, p &lt; kc; columns cols..nr-1 are zero.</summary>
    private static void PackTransposed(float* src, int ld, int cols, int kc, int nr, float* dst)
    {
        if (Avx512F.IsSupported && nr % 16 == 0)
        {
            int p = 0;
            for (; p + 16 <= kc; p += 16)
            {
                for (int jg = 0; jg < nr; jg += 16)
                {
                    int rows = Math.Clamp(cols - jg, 0, 16);
                    float* block = src + (nint)jg * ld + p;
                    // W usually comes from DRAM here and the hardware prefetchers do not follow 32 row streams at
                    // once: ask for each row's line 8 blocks ahead, or, once that passes the end of this slice of k
                    // (always, for k = 128), for the line the next panel's row will need (a prefetch past the data
                    // is harmless).
                    float* ahead = p + 128 < kc ? block + 128 : block + ((nint)nr * ld) + 128 - kc;
                    for (int r = 0; r < rows; r++)
                    {
                        Sse.Prefetch0(ahead + (r * (nint)ld));
                    }

                    Transpose16(block, ld, rows, dst + (nint)p * nr + jg, nr);
                }
            }

            for (; p < kc; p++)
            {
                float* d = dst + (nint)p * nr;
                int j = 0;
                for (; j < cols; j++)
                {
                    d[j] = src[(nint)j * ld + p];
                }

                for (; j < nr; j++)
                {
                    d[j] = 0f;
                }
            }

            return;
        }

        for (int j = 0; j < cols; j++)
        {
            float* s = src + (nint)j * ld;
            float* d = dst + j;
            for (int p = 0; p < kc; p++)
            {
                d[(nint)p * nr] = s[p];
            }
        }

        for (int j = cols; j < nr; j++)
        {
            for (int p = 0; p < kc; p++)
            {
                dst[(nint)p * nr + j] = 0f;
            }
        }
    }

    /// <summary>
    /// Transposes a 16 × 16 block: row r (r &lt; <paramref name="rows"/>, else zeros) of src holds 16 consecutive
    /// floats; dst + q·<paramref name="dstStride"/> receives column q as 16 floats. Four shuffle stages, 64
    /// shuffles for 256 values, instead of 256 scalar strided moves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose16(float* src, nint ld, int rows, float* dst, nint dstStride)
    {
        Vector512<float> r0 = Row(src, ld, 0, rows), r1 = Row(src, ld, 1, rows), r2 = Row(src, ld, 2, rows), r3 = Row(src, ld, 3, rows);
        Vector512<float> r4 = Row(src, ld, 4, rows), r5 = Row(src, ld, 5, rows), r6 = Row(src, ld, 6, rows), r7 = Row(src, ld, 7, rows);
        Vector512<float> r8 = Row(src, ld, 8, rows), r9 = Row(src, ld, 9, rows), r10 = Row(src, ld, 10, rows), r11 = Row(src, ld, 11, rows);
        Vector512<float> r12 = Row(src, ld, 12, rows), r13 = Row(src, ld, 13, rows), r14 = Row(src, ld, 14, rows), r15 = Row(src, ld, 15, rows);

        // Interleave pairs of rows (32-bit), then pairs of pairs (64-bit): within each 128-bit lane L,
        // u[4g + m] now holds column 4L + m of rows 4g..4g+3.
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1), t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5), t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9), t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13), t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);

        Vector512<float> u0 = Lo64(t0, t2), u1 = Hi64(t0, t2), u2 = Lo64(t1, t3), u3 = Hi64(t1, t3);
        Vector512<float> u4 = Lo64(t4, t6), u5 = Hi64(t4, t6), u6 = Lo64(t5, t7), u7 = Hi64(t5, t7);
        Vector512<float> u8 = Lo64(t8, t10), u9 = Hi64(t8, t10), u10 = Lo64(t9, t11), u11 = Hi64(t9, t11);
        Vector512<float> u12 = Lo64(t12, t14), u13 = Hi64(t12, t14), u14 = Lo64(t13, t15), u15 = Hi64(t13, t15);

        // Gather lane L of the four row groups into one vector: column 4L + m.
        Lanes(u0, u4, u8, u12, out Vector512<float> c0, out Vector512<float> c4, out Vector512<float> c8, out Vector512<float> c12);
        Lanes(u1, u5, u9, u13, out Vector512<float> c1, out Vector512<float> c5, out Vector512<float> c9, out Vector512<float> c13);
        Lanes(u2, u6, u10, u14, out Vector512<float> c2, out Vector512<float> c6, out Vector512<float> c10, out Vector512<float> c14);
        Lanes(u3, u7, u11, u15, out Vector512<float> c3, out Vector512<float> c7, out Vector512<float> c11, out Vector512<float> c15);

        // Ascending order matters: with dstStride < 16 each store spills into the next column's slot, which the
        // next store then overwrites.
        c0.Store(dst);
        c1.Store(dst + dstStride);
        c2.Store(dst + (2 * dstStride));
        c3.Store(dst + (3 * dstStride));
        c4.Store(dst + (4 * dstStride));
        c5.Store(dst + (5 * dstStride));
        c6.Store(dst + (6 * dstStride));
        c7.Store(dst + (7 * dstStride));
        c8.Store(dst + (8 * dstStride));
        c9.Store(dst + (9 * dstStride));
        c10.Store(dst + (10 * dstStride));
        c11.Store(dst + (11 * dstStride));
        c12.Store(dst + (12 * dstStride));
        c13.Store(dst + (13 * dstStride));
        c14.Store(dst + (14 * dstStride));
        c15.Store(dst + (15 * dstStride));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, nint ld, int r, int rows) =>
        r < rows ? Vector512.Load(src + r * ld) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> a, Vector512<float> b) =>
        Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> a, Vector512<float> b) =>
        Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3,
        out Vector512<float> lane0, out Vector512<float> lane1, out Vector512<float> lane2, out Vector512<float> lane3)
    {
        Vector512<float> v1 = Avx512F.Shuffle4x128(g0, g1, 0x44), v2 = Avx512F.Shuffle4x128(g0, g1, 0xEE);
        Vector512<float> w1 = Avx512F.Shuffle4x128(g2, g3, 0x44), w2 = Avx512F.Shuffle4x128(g2, g3, 0xEE);
        lane0 = Avx512F.Shuffle4x128(v1, w1, 0x88);
        lane1 = Avx512F.Shuffle4x128(v1, w1, 0xDD);
        lane2 = Avx512F.Shuffle4x128(v2, w2, 0x88);
        lane3 = Avx512F.Shuffle4x128(v2, w2, 0xDD);
    }

    /// <summary>Everything one product needs, passed by reference into the blocked loops and the worker threads.</summary>
    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
        float* c, int ldc, bool accumulate, GemmPath path, float* bias)
    {
        public readonly bool TransA = transA;
        public readonly bool TransB = transB;
        public readonly int M = m;
        public readonly int N = n;
        public readonly int K = k;
        public readonly float* A = a;
        public readonly int Lda = lda;
        public readonly float* B = b;
        public readonly int Ldb = ldb;
        public readonly float* C = c;
        public readonly int Ldc = ldc;
        public readonly bool Accumulate = accumulate;
        public readonly GemmPath Path = path;
        public readonly float* Bias = bias;   // null: none, or not used because C accumulates
    }

    /// <summary>One part of C per index, whole tiles, spread as evenly as possible.</summary>
    private readonly struct Parts(Job job, bool splitN, int tile, int tiles, int extent, int parts) : IRangeBody
    {
        private readonly Job _job = job;

        public void Run(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                int from = (int)((long)tiles * part / parts) * tile;
                int to = Math.Min(extent, (int)((long)tiles * (part + 1) / parts) * tile);
                if (from >= to)
                {
                    continue;
                }

                if (splitN)
                {
                    Gemm.Run(in _job, 0, _job.M, from, to);
                }
                else
                {
                    Gemm.Run(in _job, from, to, 0, _job.N);
                }
            }
        }
    }

    /// <summary>
    /// Per-thread packing buffers, 64-byte aligned, grown on demand and kept for the thread's lifetime, so steady
    /// state allocates nothing. Pinned arrays on the pinned object heap: the GC never moves them.
    /// </summary>
    private sealed class Workspace
    {
        private float[] _a = [];
        private float[] _b = [];
        private float[] _tile = [];

        public float* A(int count) => Aligned(ref _a, count);

        public float* B(int count) => Aligned(ref _b, count);

        public float* Tile(int count) => Aligned(ref _tile, count);

        private static float* Aligned(ref float[] buffer, int count)
        {
            // 16 spare floats let the start move up to the next 64-byte boundary.
            if (buffer.Length < count + 16)
            {
                buffer = GC.AllocateUninitializedArray<float>(count + 16, pinned: true);
            }

            nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
            return (float*)((p + 63) & ~(nint)63);
        }
    }
}
