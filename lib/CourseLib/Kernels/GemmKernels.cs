// Register-blocked micro-kernels of the packed SGEMM (Gemm.cs). They are written out in full (one named
// local per accumulator) because that is what makes the JIT keep the whole C tile in zmm/ymm registers for
// the entire k loop; a loop over an array of accumulators would live in memory. Each k step loads one row
// of the B panel (NR floats) and broadcasts MR values of A, then issues MR·NR/16 independent FMAs, far more
// than the 4-cycle FMA latency needs to keep the FMA pipes busy. The AVX-512 tiles take their operands with
// strides, so the same code reads packed panels (A value i of step p at a[i + p·MR], B row p at b + p·NR) or,
// for small products, A and B where they lie (a[i·lda + p], b + p·ldb): A's rows are reached from four row
// pointers (rows 3g, 3g + 1, 3g + 2 at a3g, a3g + rs, a3g + 2·rs), which x86 addressing folds into the loads.
// The 8- and 4-row variants finish the last strip of rows without computing up to 11 rows of zeros.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

internal static unsafe partial class Gemm
{
    /// <summary>C[12×32] (+)= A·B over kc steps: A[i, p] at a[i·rs + p·ks], B[p, 0..32) at b + p·bs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x12x32(int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool load, float* bias)
    {
        // Start pulling the C tile toward L1 now; it is read (or written) only after the k loop, and a large C
        // (a weight gradient) would otherwise cost one cache miss per row at the end of every tile.
        Sse.Prefetch0(c + 0 * (nint)ldc);
        Sse.Prefetch0(c + 0 * (nint)ldc + 16);
        Sse.Prefetch0(c + 1 * (nint)ldc);
        Sse.Prefetch0(c + 1 * (nint)ldc + 16);
        Sse.Prefetch0(c + 2 * (nint)ldc);
        Sse.Prefetch0(c + 2 * (nint)ldc + 16);
        Sse.Prefetch0(c + 3 * (nint)ldc);
        Sse.Prefetch0(c + 3 * (nint)ldc + 16);
        Sse.Prefetch0(c + 4 * (nint)ldc);
        Sse.Prefetch0(c + 4 * (nint)ldc + 16);
        Sse.Prefetch0(c + 5 * (nint)ldc);
        Sse.Prefetch0(c + 5 * (nint)ldc + 16);
        Sse.Prefetch0(c + 6 * (nint)ldc);
        Sse.Prefetch0(c + 6 * (nint)ldc + 16);
        Sse.Prefetch0(c + 7 * (nint)ldc);
        Sse.Prefetch0(c + 7 * (nint)ldc + 16);
        Sse.Prefetch0(c + 8 * (nint)ldc);
        Sse.Prefetch0(c + 8 * (nint)ldc + 16);
        Sse.Prefetch0(c + 9 * (nint)ldc);
        Sse.Prefetch0(c + 9 * (nint)ldc + 16);
        Sse.Prefetch0(c + 10 * (nint)ldc);
        Sse.Prefetch0(c + 10 * (nint)ldc + 16);
        Sse.Prefetch0(c + 11 * (nint)ldc);
        Sse.Prefetch0(c + 11 * (nint)ldc + 16);
        Vector512<float> c0_0 = Vector512<float>.Zero; Vector512<float> c0_1 = Vector512<float>.Zero;
        Vector512<float> c1_0 = Vector512<float>.Zero; Vector512<float> c1_1 = Vector512<float>.Zero;
        Vector512<float> c2_0 = Vector512<float>.Zero; Vector512<float> c2_1 = Vector512<float>.Zero;
        Vector512<float> c3_0 = Vector512<float>.Zero; Vector512<float> c3_1 = Vector512<float>.Zero;
        Vector512<float> c4_0 = Vector512<float>.Zero; Vector512<float> c4_1 = Vector512<float>.Zero;
        Vector512<float> c5_0 = Vector512<float>.Zero; Vector512<float> c5_1 = Vector512<float>.Zero;
        Vector512<float> c6_0 = Vector512<float>.Zero; Vector512<float> c6_1 = Vector512<float>.Zero;
        Vector512<float> c7_0 = Vector512<float>.Zero; Vector512<float> c7_1 = Vector512<float>.Zero;
        Vector512<float> c8_0 = Vector512<float>.Zero; Vector512<float> c8_1 = Vector512<float>.Zero;
        Vector512<float> c9_0 = Vector512<float>.Zero; Vector512<float> c9_1 = Vector512<float>.Zero;
        Vector512<float> c10_0 = Vector512<float>.Zero; Vector512<float> c10_1 = Vector512<float>.Zero;
        Vector512<float> c11_0 = Vector512<float>.Zero; Vector512<float> c11_1 = Vector512<float>.Zero;
        float* a0p = a;
        float* a3p = a + (3 * rs);
        float* a6p = a + (6 * rs);
        float* a9p = a + (9 * rs);
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a0p[0]);
            c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a0p[rs]);
            c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a0p[2 * rs]);
            c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a3p[0]);
            c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            Vector512<float> a4 = Vector512.Create(a3p[rs]);
            c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            Vector512<float> a5 = Vector512.Create(a3p[2 * rs]);
            c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            Vector512<float> a6 = Vector512.Create(a6p[0]);
            c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            Vector512<float> a7 = Vector512.Create(a6p[rs]);
            c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            Vector512<float> a8 = Vector512.Create(a6p[2 * rs]);
            c8_0 = Vector512.FusedMultiplyAdd(a8, b0, c8_0);
            c8_1 = Vector512.FusedMultiplyAdd(a8, b1, c8_1);
            Vector512<float> a9 = Vector512.Create(a9p[0]);
            c9_0 = Vector512.FusedMultiplyAdd(a9, b0, c9_0);
            c9_1 = Vector512.FusedMultiplyAdd(a9, b1, c9_1);
            Vector512<float> a10 = Vector512.Create(a9p[rs]);
            c10_0 = Vector512.FusedMultiplyAdd(a10, b0, c10_0);
            c10_1 = Vector512.FusedMultiplyAdd(a10, b1, c10_1);
            Vector512<float> a11 = Vector512.Create(a9p[2 * rs]);
            c11_0 = Vector512.FusedMultiplyAdd(a11, b0, c11_0);
            c11_1 = Vector512.FusedMultiplyAdd(a11, b1, c11_1);
            a0p += ks;
            a3p += ks;
            a6p += ks;
            a9p += ks;
            b += bs;
        }

        if (load)
        {
            c0_0 += Vector512.Load(c + 0 * (nint)ldc + 0);
            c0_1 += Vector512.Load(c + 0 * (nint)ldc + 16);
            c1_0 += Vector512.Load(c + 1 * (nint)ldc + 0);
            c1_1 += Vector512.Load(c + 1 * (nint)ldc + 16);
            c2_0 += Vector512.Load(c + 2 * (nint)ldc + 0);
            c2_1 += Vector512.Load(c + 2 * (nint)ldc + 16);
            c3_0 += Vector512.Load(c + 3 * (nint)ldc + 0);
            c3_1 += Vector512.Load(c + 3 * (nint)ldc + 16);
            c4_0 += Vector512.Load(c + 4 * (nint)ldc + 0);
            c4_1 += Vector512.Load(c + 4 * (nint)ldc + 16);
            c5_0 += Vector512.Load(c + 5 * (nint)ldc + 0);
            c5_1 += Vector512.Load(c + 5 * (nint)ldc + 16);
            c6_0 += Vector512.Load(c + 6 * (nint)ldc + 0);
            c6_1 += Vector512.Load(c + 6 * (nint)ldc + 16);
            c7_0 += Vector512.Load(c + 7 * (nint)ldc + 0);
            c7_1 += Vector512.Load(c + 7 * (nint)ldc + 16);
            c8_0 += Vector512.Load(c + 8 * (nint)ldc + 0);
            c8_1 += Vector512.Load(c + 8 * (nint)ldc + 16);
            c9_0 += Vector512.Load(c + 9 * (nint)ldc + 0);
            c9_1 += Vector512.Load(c + 9 * (nint)ldc + 16);
            c10_0 += Vector512.Load(c + 10 * (nint)ldc + 0);
            c10_1 += Vector512.Load(c + 10 * (nint)ldc + 16);
            c11_0 += Vector512.Load(c + 11 * (nint)ldc + 0);
            c11_1 += Vector512.Load(c + 11 * (nint)ldc + 16);
        }
        else if (bias != null)
        {
            // The first slice of k of y = x·Wᵀ + b: the bias row joins the tile here, as C = b would have.
            Vector512<float> bias0 = Vector512.Load(bias + 0), bias1 = Vector512.Load(bias + 16);
            c0_0 += bias0;
            c0_1 += bias1;
            c1_0 += bias0;
            c1_1 += bias1;
            c2_0 += bias0;
            c2_1 += bias1;
            c3_0 += bias0;
            c3_1 += bias1;
            c4_0 += bias0;
            c4_1 += bias1;
            c5_0 += bias0;
            c5_1 += bias1;
            c6_0 += bias0;
            c6_1 += bias1;
            c7_0 += bias0;
            c7_1 += bias1;
            c8_0 += bias0;
            c8_1 += bias1;
            c9_0 += bias0;
            c9_1 += bias1;
            c10_0 += bias0;
            c10_1 += bias1;
            c11_0 += bias0;
            c11_1 += bias1;
        }

        c0_0.Store(c + 0 * (nint)ldc + 0);
        c0_1.Store(c + 0 * (nint)ldc + 16);
        c1_0.Store(c + 1 * (nint)ldc + 0);
        c1_1.Store(c + 1 * (nint)ldc + 16);
        c2_0.Store(c + 2 * (nint)ldc + 0);
        c2_1.Store(c + 2 * (nint)ldc + 16);
        c3_0.Store(c + 3 * (nint)ldc + 0);
        c3_1.Store(c + 3 * (nint)ldc + 16);
        c4_0.Store(c + 4 * (nint)ldc + 0);
        c4_1.Store(c + 4 * (nint)ldc + 16);
        c5_0.Store(c + 5 * (nint)ldc + 0);
        c5_1.Store(c + 5 * (nint)ldc + 16);
        c6_0.Store(c + 6 * (nint)ldc + 0);
        c6_1.Store(c + 6 * (nint)ldc + 16);
        c7_0.Store(c + 7 * (nint)ldc + 0);
        c7_1.Store(c + 7 * (nint)ldc + 16);
        c8_0.Store(c + 8 * (nint)ldc + 0);
        c8_1.Store(c + 8 * (nint)ldc + 16);
        c9_0.Store(c + 9 * (nint)ldc + 0);
        c9_1.Store(c + 9 * (nint)ldc + 16);
        c10_0.Store(c + 10 * (nint)ldc + 0);
        c10_1.Store(c + 10 * (nint)ldc + 16);
        c11_0.Store(c + 11 * (nint)ldc + 0);
        c11_1.Store(c + 11 * (nint)ldc + 16);
    }

    /// <summary>C[8×32] (+)= A·B over kc steps: A[i, p] at a[i·rs + p·ks], B[p, 0..32) at b + p·bs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x8x32(int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool load, float* bias)
    {
        // Start pulling the C tile toward L1 now; it is read (or written) only after the k loop, and a large C
        // (a weight gradient) would otherwise cost one cache miss per row at the end of every tile.
        Sse.Prefetch0(c + 0 * (nint)ldc);
        Sse.Prefetch0(c + 0 * (nint)ldc + 16);
        Sse.Prefetch0(c + 1 * (nint)ldc);
        Sse.Prefetch0(c + 1 * (nint)ldc + 16);
        Sse.Prefetch0(c + 2 * (nint)ldc);
        Sse.Prefetch0(c + 2 * (nint)ldc + 16);
        Sse.Prefetch0(c + 3 * (nint)ldc);
        Sse.Prefetch0(c + 3 * (nint)ldc + 16);
        Sse.Prefetch0(c + 4 * (nint)ldc);
        Sse.Prefetch0(c + 4 * (nint)ldc + 16);
        Sse.Prefetch0(c + 5 * (nint)ldc);
        Sse.Prefetch0(c + 5 * (nint)ldc + 16);
        Sse.Prefetch0(c + 6 * (nint)ldc);
        Sse.Prefetch0(c + 6 * (nint)ldc + 16);
        Sse.Prefetch0(c + 7 * (nint)ldc);
        Sse.Prefetch0(c + 7 * (nint)ldc + 16);
        Vector512<float> c0_0 = Vector512<float>.Zero; Vector512<float> c0_1 = Vector512<float>.Zero;
        Vector512<float> c1_0 = Vector512<float>.Zero; Vector512<float> c1_1 = Vector512<float>.Zero;
        Vector512<float> c2_0 = Vector512<float>.Zero; Vector512<float> c2_1 = Vector512<float>.Zero;
        Vector512<float> c3_0 = Vector512<float>.Zero; Vector512<float> c3_1 = Vector512<float>.Zero;
        Vector512<float> c4_0 = Vector512<float>.Zero; Vector512<float> c4_1 = Vector512<float>.Zero;
        Vector512<float> c5_0 = Vector512<float>.Zero; Vector512<float> c5_1 = Vector512<float>.Zero;
        Vector512<float> c6_0 = Vector512<float>.Zero; Vector512<float> c6_1 = Vector512<float>.Zero;
        Vector512<float> c7_0 = Vector512<float>.Zero; Vector512<float> c7_1 = Vector512<float>.Zero;
        float* a0p = a;
        float* a3p = a + (3 * rs);
        float* a6p = a + (6 * rs);
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a0p[0]);
            c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a0p[rs]);
            c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a0p[2 * rs]);
            c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a3p[0]);
            c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            Vector512<float> a4 = Vector512.Create(a3p[rs]);
            c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
            Vector512<float> a5 = Vector512.Create(a3p[2 * rs]);
            c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
            Vector512<float> a6 = Vector512.Create(a6p[0]);
            c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
            Vector512<float> a7 = Vector512.Create(a6p[rs]);
            c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            a0p += ks;
            a3p += ks;
            a6p += ks;
            b += bs;
        }

        if (load)
        {
            c0_0 += Vector512.Load(c + 0 * (nint)ldc + 0);
            c0_1 += Vector512.Load(c + 0 * (nint)ldc + 16);
            c1_0 += Vector512.Load(c + 1 * (nint)ldc + 0);
            c1_1 += Vector512.Load(c + 1 * (nint)ldc + 16);
            c2_0 += Vector512.Load(c + 2 * (nint)ldc + 0);
            c2_1 += Vector512.Load(c + 2 * (nint)ldc + 16);
            c3_0 += Vector512.Load(c + 3 * (nint)ldc + 0);
            c3_1 += Vector512.Load(c + 3 * (nint)ldc + 16);
            c4_0 += Vector512.Load(c + 4 * (nint)ldc + 0);
            c4_1 += Vector512.Load(c + 4 * (nint)ldc + 16);
            c5_0 += Vector512.Load(c + 5 * (nint)ldc + 0);
            c5_1 += Vector512.Load(c + 5 * (nint)ldc + 16);
            c6_0 += Vector512.Load(c + 6 * (nint)ldc + 0);
            c6_1 += Vector512.Load(c + 6 * (nint)ldc + 16);
            c7_0 += Vector512.Load(c + 7 * (nint)ldc + 0);
            c7_1 += Vector512.Load(c + 7 * (nint)ldc + 16);
        }
        else if (bias != null)
        {
            // The first slice of k of y = x·Wᵀ + b: the bias row joins the tile here, as C = b would have.
            Vector512<float> bias0 = Vector512.Load(bias + 0), bias1 = Vector512.Load(bias + 16);
            c0_0 += bias0;
            c0_1 += bias1;
            c1_0 += bias0;
            c1_1 += bias1;
            c2_0 += bias0;
            c2_1 += bias1;
            c3_0 += bias0;
            c3_1 += bias1;
            c4_0 += bias0;
            c4_1 += bias1;
            c5_0 += bias0;
            c5_1 += bias1;
            c6_0 += bias0;
            c6_1 += bias1;
            c7_0 += bias0;
            c7_1 += bias1;
        }

        c0_0.Store(c + 0 * (nint)ldc + 0);
        c0_1.Store(c + 0 * (nint)ldc + 16);
        c1_0.Store(c + 1 * (nint)ldc + 0);
        c1_1.Store(c + 1 * (nint)ldc + 16);
        c2_0.Store(c + 2 * (nint)ldc + 0);
        c2_1.Store(c + 2 * (nint)ldc + 16);
        c3_0.Store(c + 3 * (nint)ldc + 0);
        c3_1.Store(c + 3 * (nint)ldc + 16);
        c4_0.Store(c + 4 * (nint)ldc + 0);
        c4_1.Store(c + 4 * (nint)ldc + 16);
        c5_0.Store(c + 5 * (nint)ldc + 0);
        c5_1.Store(c + 5 * (nint)ldc + 16);
        c6_0.Store(c + 6 * (nint)ldc + 0);
        c6_1.Store(c + 6 * (nint)ldc + 16);
        c7_0.Store(c + 7 * (nint)ldc + 0);
        c7_1.Store(c + 7 * (nint)ldc + 16);
    }

    /// <summary>C[4×32] (+)= A·B over kc steps: A[i, p] at a[i·rs + p·ks], B[p, 0..32) at b + p·bs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x4x32(int kc, float* a, nint rs, nint ks, float* b, nint bs, float* c, int ldc, bool load, float* bias)
    {
        // Start pulling the C tile toward L1 now; it is read (or written) only after the k loop, and a large C
        // (a weight gradient) would otherwise cost one cache miss per row at the end of every tile.
        Sse.Prefetch0(c + 0 * (nint)ldc);
        Sse.Prefetch0(c + 0 * (nint)ldc + 16);
        Sse.Prefetch0(c + 1 * (nint)ldc);
        Sse.Prefetch0(c + 1 * (nint)ldc + 16);
        Sse.Prefetch0(c + 2 * (nint)ldc);
        Sse.Prefetch0(c + 2 * (nint)ldc + 16);
        Sse.Prefetch0(c + 3 * (nint)ldc);
        Sse.Prefetch0(c + 3 * (nint)ldc + 16);
        Vector512<float> c0_0 = Vector512<float>.Zero; Vector512<float> c0_1 = Vector512<float>.Zero;
        Vector512<float> c1_0 = Vector512<float>.Zero; Vector512<float> c1_1 = Vector512<float>.Zero;
        Vector512<float> c2_0 = Vector512<float>.Zero; Vector512<float> c2_1 = Vector512<float>.Zero;
        Vector512<float> c3_0 = Vector512<float>.Zero; Vector512<float> c3_1 = Vector512<float>.Zero;
        float* a0p = a;
        float* a3p = a + (3 * rs);
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b + 0);
            Vector512<float> b1 = Vector512.Load(b + 16);
            Vector512<float> a0 = Vector512.Create(a0p[0]);
            c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
            Vector512<float> a1 = Vector512.Create(a0p[rs]);
            c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
            Vector512<float> a2 = Vector512.Create(a0p[2 * rs]);
            c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
            Vector512<float> a3 = Vector512.Create(a3p[0]);
            c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
            a0p += ks;
            a3p += ks;
            b += bs;
        }

        if (load)
        {
            c0_0 += Vector512.Load(c + 0 * (nint)ldc + 0);
            c0_1 += Vector512.Load(c + 0 * (nint)ldc + 16);
            c1_0 += Vector512.Load(c + 1 * (nint)ldc + 0);
            c1_1 += Vector512.Load(c + 1 * (nint)ldc + 16);
            c2_0 += Vector512.Load(c + 2 * (nint)ldc + 0);
            c2_1 += Vector512.Load(c + 2 * (nint)ldc + 16);
            c3_0 += Vector512.Load(c + 3 * (nint)ldc + 0);
            c3_1 += Vector512.Load(c + 3 * (nint)ldc + 16);
        }
        else if (bias != null)
        {
            // The first slice of k of y = x·Wᵀ + b: the bias row joins the tile here, as C = b would have.
            Vector512<float> bias0 = Vector512.Load(bias + 0), bias1 = Vector512.Load(bias + 16);
            c0_0 += bias0;
            c0_1 += bias1;
            c1_0 += bias0;
            c1_1 += bias1;
            c2_0 += bias0;
            c2_1 += bias1;
            c3_0 += bias0;
            c3_1 += bias1;
        }

        c0_0.Store(c + 0 * (nint)ldc + 0);
        c0_1.Store(c + 0 * (nint)ldc + 16);
        c1_0.Store(c + 1 * (nint)ldc + 0);
        c1_1.Store(c + 1 * (nint)ldc + 16);
        c2_0.Store(c + 2 * (nint)ldc + 0);
        c2_1.Store(c + 2 * (nint)ldc + 16);
        c3_0.Store(c + 3 * (nint)ldc + 0);
        c3_1.Store(c + 3 * (nint)ldc + 16);
    }

    /// <summary>The AVX2 tile: C[6×16] (+)= Ap·Bp, for machines without AVX-512.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256x6x16(int kc, float* a, float* b, float* c, int ldc, bool load, float* bias)
    {
        Vector256<float> c0_0 = Vector256<float>.Zero; Vector256<float> c0_1 = Vector256<float>.Zero;
        Vector256<float> c1_0 = Vector256<float>.Zero; Vector256<float> c1_1 = Vector256<float>.Zero;
        Vector256<float> c2_0 = Vector256<float>.Zero; Vector256<float> c2_1 = Vector256<float>.Zero;
        Vector256<float> c3_0 = Vector256<float>.Zero; Vector256<float> c3_1 = Vector256<float>.Zero;
        Vector256<float> c4_0 = Vector256<float>.Zero; Vector256<float> c4_1 = Vector256<float>.Zero;
        Vector256<float> c5_0 = Vector256<float>.Zero; Vector256<float> c5_1 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b + 0);
            Vector256<float> b1 = Vector256.Load(b + 8);
            Vector256<float> a0 = Vector256.Create(a[0]);
            c0_0 = Vector256.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector256.FusedMultiplyAdd(a0, b1, c0_1);
            Vector256<float> a1 = Vector256.Create(a[1]);
            c1_0 = Vector256.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector256.FusedMultiplyAdd(a1, b1, c1_1);
            Vector256<float> a2 = Vector256.Create(a[2]);
            c2_0 = Vector256.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector256.FusedMultiplyAdd(a2, b1, c2_1);
            Vector256<float> a3 = Vector256.Create(a[3]);
            c3_0 = Vector256.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector256.FusedMultiplyAdd(a3, b1, c3_1);
            Vector256<float> a4 = Vector256.Create(a[4]);
            c4_0 = Vector256.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Vector256.FusedMultiplyAdd(a4, b1, c4_1);
            Vector256<float> a5 = Vector256.Create(a[5]);
            c5_0 = Vector256.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Vector256.FusedMultiplyAdd(a5, b1, c5_1);
            a += 6;
            b += 16;
        }

        if (load)
        {
            c0_0 += Vector256.Load(c + 0 * (nint)ldc + 0);
            c0_1 += Vector256.Load(c + 0 * (nint)ldc + 8);
            c1_0 += Vector256.Load(c + 1 * (nint)ldc + 0);
            c1_1 += Vector256.Load(c + 1 * (nint)ldc + 8);
            c2_0 += Vector256.Load(c + 2 * (nint)ldc + 0);
            c2_1 += Vector256.Load(c + 2 * (nint)ldc + 8);
            c3_0 += Vector256.Load(c + 3 * (nint)ldc + 0);
            c3_1 += Vector256.Load(c + 3 * (nint)ldc + 8);
            c4_0 += Vector256.Load(c + 4 * (nint)ldc + 0);
            c4_1 += Vector256.Load(c + 4 * (nint)ldc + 8);
            c5_0 += Vector256.Load(c + 5 * (nint)ldc + 0);
            c5_1 += Vector256.Load(c + 5 * (nint)ldc + 8);
        }
        else if (bias != null)
        {
            // The first slice of k of y = x·Wᵀ + b: the bias row joins the tile here, as C = b would have.
            Vector256<float> bias0 = Vector256.Load(bias + 0), bias1 = Vector256.Load(bias + 8);
            c0_0 += bias0;
            c0_1 += bias1;
            c1_0 += bias0;
            c1_1 += bias1;
            c2_0 += bias0;
            c2_1 += bias1;
            c3_0 += bias0;
            c3_1 += bias1;
            c4_0 += bias0;
            c4_1 += bias1;
            c5_0 += bias0;
            c5_1 += bias1;
        }

        c0_0.Store(c + 0 * (nint)ldc + 0);
        c0_1.Store(c + 0 * (nint)ldc + 8);
        c1_0.Store(c + 1 * (nint)ldc + 0);
        c1_1.Store(c + 1 * (nint)ldc + 8);
        c2_0.Store(c + 2 * (nint)ldc + 0);
        c2_1.Store(c + 2 * (nint)ldc + 8);
        c3_0.Store(c + 3 * (nint)ldc + 0);
        c3_1.Store(c + 3 * (nint)ldc + 8);
        c4_0.Store(c + 4 * (nint)ldc + 0);
        c4_1.Store(c + 4 * (nint)ldc + 8);
        c5_0.Store(c + 5 * (nint)ldc + 0);
        c5_1.Store(c + 5 * (nint)ldc + 8);
    }
}
