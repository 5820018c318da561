// C[m, n] = (accumulate ? C : 0) + op(A)[m, k] · op(B)[k, n]        row-major, float32, float accumulation
//   op(A) = A[m, k] (lda ≥ k)  or, with transA, Aᵀ where A is stored [k, m] (lda ≥ m)
//   op(B) = B[k, n] (ldb ≥ n)  or, with transB, Bᵀ where B is stored [n, k] (ldb ≥ k)
//
// The classic Goto/BLIS structure, sized for Zen 4 (L1d 32 KB, L2 1 MB per core):
//   for each column block of C, NC wide            (the packed B block, KC × NC, 512 KB, sits in L2)
//     for each slice of k, KC deep                 (pack op(B)[KC, NC] into NR-wide column panels)
//       for each MR-row strip of C                 (pack op(A)[MR, KC], 8–14 KB, which stays in L1)
//         for each NR-wide panel of the B block    (stream it from L2)
//           micro-kernel: an MR × NR tile of C held in registers, KC rank-1 updates, then one load/store of C
// Packing turns every layout (normal or transposed) into the same unit-stride panels, so one micro-kernel
// serves all three products Linear needs: NT (x·Wᵀ), NN (dy·W) and TN (dyᵀ·x).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    /// <summary>Depth of one packed slice of k: the A strip (MR·KC floats) must fit L1 next to the streaming B panel.</summary>
    internal const int KC = 256;

    /// <summary>Width of one packed B block: KC·NC·4 bytes = 512 KB, half of Zen 4's L2, the rest for C and A.</summary>
    internal const int NC = 512;

    /// <summary>Rows of the AVX-512 tile (registers: MR·2 accumulators + 2 B rows ≤ 32 zmm).</summary>
    internal const int MR512 = 8;

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
    /// C = (accumulate ? C : 0) + op(A)·op(B). Spans must cover the addressed elements; callers (Linear) validate
    /// shapes, so this only asserts the preconditions.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate,
        GemmPath path = GemmPath.Auto, int maxThreads = 0)
    {
        if (m <= 0 || n <= 0)
        {
            return;
        }

        if (k <= 0)
        {
            if (!accumulate)
            {
                for (int i = 0; i < m; i++)
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
        {
            var job = new Job(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, path);
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

        ParallelJob pj = ParallelJob.Rent();
        pj.Job = job;
        pj.SplitN = splitN;
        pj.Tile = tile;
        pj.Tiles = tiles;
        pj.Extent = extent;
        pj.Parts = threads;
        try
        {
            KernelThreads.For(threads, 1, pj.Body);
        }
        finally
        {
            pj.Job = default;
            ParallelJob.Return(pj);
        }
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
        float* abuf = ws.A(mr * KC);
        float* bbuf = ws.B(KC * (NC + nr));
        float* tile = ws.Tile(mr * nr);

        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc);
            for (int pc = 0; pc < job.K; pc += KC)
            {
                int kc = Math.Min(KC, job.K - pc);
                PackB(in job, pc, kc, jc, nc, nr, bbuf);
                // The first slice of k writes C unless the caller asked to accumulate into it.
                bool load = job.Accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += mr)
                {
                    int rows = Math.Min(mr, i1 - ic);
                    PackA(in job, ic, rows, pc, kc, mr, abuf);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* bp = bbuf + (nint)jr * kc;
                        float* cp = job.C + (nint)ic * job.Ldc + jc + jr;
                        if (rows == mr && cols == nr)
                        {
                            Kernel(job.Path, kc, abuf, bp, cp, job.Ldc, load);
                        }
                        else
                        {
                            // Edge tile: compute the full (zero-padded) tile aside, then merge only the valid part.
                            Kernel(job.Path, kc, abuf, bp, tile, nr, false);
                            MergeEdge(tile, nr, cp, job.Ldc, rows, cols, load);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(GemmPath path, int kc, float* a, float* b, float* c, int ldc, bool load)
    {
        switch (path)
        {
            case GemmPath.Vector512:
                Kernel512x8x32(kc, a, b, c, ldc, load);
                break;
            case GemmPath.Vector256:
                Kernel256x6x16(kc, a, b, c, ldc, load);
                break;
            default:
                KernelScalar(kc, a, b, c, ldc, load);
                break;
        }
    }

    /// <summary>The same tile product in plain loops (4 × 4), for CPUs without 256-bit vectors.</summary>
    private static void KernelScalar(int kc, float* a, float* b, float* c, int ldc, bool load)
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
                c[i * ldc + j] = load ? c[i * ldc + j] + acc[i * NRScalar + j] : acc[i * NRScalar + j];
            }
        }
    }

    private static void MergeEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, bool load)
    {
        for (int i = 0; i < rows; i++)
        {
            var src = new ReadOnlySpan<float>(tile + (nint)i * nr, cols);
            var dst = new Span<float>(c + (nint)i * ldc, cols);
            if (load)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
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
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] into consecutive nr-wide column panels, panel q at dst + q·nr·kc laid
    /// out as [p·nr + j], zero-filling columns past <paramref name="nc"/>.
    /// </summary>
    private static void PackB(in Job job, int pc, int kc, int jc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
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

    /// <summary>Everything one product needs, passed by reference into the blocked loops and the worker threads.</summary>
    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb,
        float* c, int ldc, bool accumulate, GemmPath path)
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
    }

    /// <summary>
    /// A reusable parallel work item: its <see cref="Body"/> delegate is created once, so a multi-threaded call
    /// allocates no closure (only what <see cref="Parallel"/> itself needs).
    /// </summary>
    private sealed class ParallelJob
    {
        private static ParallelJob? s_free;

        public Job Job;
        public bool SplitN;
        public int Tile;
        public int Tiles;
        public int Extent;
        public int Parts;
        public readonly Action<int, int> Body;

        private ParallelJob() => Body = Execute;

        public static ParallelJob Rent() => Interlocked.Exchange(ref s_free, null) ?? new ParallelJob();

        public static void Return(ParallelJob job) => Volatile.Write(ref s_free, job);

        private void Execute(int start, int end)
        {
            for (int part = start; part < end; part++)
            {
                // Whole tiles per part, spread as evenly as possible.
                int from = (int)((long)Tiles * part / Parts) * Tile;
                int to = Math.Min(Extent, (int)((long)Tiles * (part + 1) / Parts) * Tile);
                if (from >= to)
                {
                    continue;
                }

                if (SplitN)
                {
                    Run(in Job, 0, Job.M, from, to);
                }
                else
                {
                    Run(in Job, from, to, 0, Job.N);
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
