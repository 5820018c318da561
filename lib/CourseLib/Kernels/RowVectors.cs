using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// Helpers the row kernels share for short rows (an attention head's 16–64 floats, a softmax row, a per-thread
/// partial of dγ), and a row maximum's last step across the lanes: with AVX-512 a row is whole vectors and one masked vector for its ragged end — masked loads and
/// stores do not touch memory past the mask — instead of a scalar tail or a library call, whose fixed cost is larger
/// than the work on such rows.
/// </summary>
internal static class RowVectors
{
    /// <summary>All bits set in lanes 0 .. n − 1 (every lane for n ≥ 16), as a float vector for <c>Avx512F.MaskLoad</c> / <c>MaskStore</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> LaneMask(int n) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();

    /// <summary>
    /// The largest lane. MaxNative may drop a NaN; the softmax callers see it again in exp(x − max) and the sum, so a
    /// row with a NaN still comes out NaN.
    /// </summary>
    internal static float MaxAcross(Vector512<float> v)
    {
        Vector256<float> h = Vector256.MaxNative(v.GetLower(), v.GetUpper());
        Vector128<float> q = Vector128.MaxNative(h.GetLower(), h.GetUpper());
        q = Vector128.MaxNative(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(q[0], q[1]);
    }

    /// <summary>
    /// The sum of the 16 lanes, in every lane, added in the tree <see cref="Vector512.Sum{T}(Vector512{T})"/> uses with
    /// AVX-512 — adjacent lanes, then pairs of pairs inside each 128-bit block, then the blocks as (b0 + b1) + (b2 + b3) —
    /// so the value is the same bit for bit (float addition is commutative, and each step adds the same two partial sums
    /// in every lane). Four shuffles and four adds that stay in one register, where <c>Vector512.Sum</c> splits the
    /// vector into quarters and ends in scalar adds (~24 instructions); interleaved over four rows this shortens the
    /// chain at the end of each softmax row. Callers need AVX-512.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> SumAcross(Vector512<float> v)
    {
        v += Avx512F.Permute4x32(v, 0b10_11_00_01);       // lane pairs (0,1) (2,3) … swapped
        v += Avx512F.Permute4x32(v, 0b01_00_11_10);       // 64-bit halves of each block swapped
        v += Avx512F.Shuffle4x128(v, v, 0b10_11_00_01);   // blocks (0,1) and (2,3) swapped
        return v + Avx512F.Shuffle4x128(v, v, 0b01_00_11_10); // 256-bit halves swapped
    }

    /// <summary>dst[0 .. n) += src[0 .. n).</summary>
    internal static unsafe void Add(float* dst, float* src, int n)
    {
        if (!Avx512F.IsSupported)
        {
            var target = new Span<float>(dst, n);
            TensorPrimitives.Add(target, new ReadOnlySpan<float>(src, n), target);
            return;
        }

        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            (Vector512.Load(dst + i) + Vector512.Load(src + i)).Store(dst + i);
        }

        if (i < n)
        {
            Vector512<float> m = LaneMask(n - i);
            Avx512F.MaskStore(dst + i, m, Avx512F.MaskLoad(dst + i, m, Vector512<float>.Zero) + Avx512F.MaskLoad(src + i, m, Vector512<float>.Zero));
        }
    }

    /// <summary>
    /// dst[0 .. n) = src[0 .. n), the 64-byte-aligned whole vectors of dst stored non-temporally (AVX-512 only; call
    /// <see cref="Sse.StoreFence"/> after the last row). For outputs far larger than the caches: an ordinary store
    /// first reads each line it writes from memory.
    /// </summary>
    internal static unsafe void CopyNonTemporal(float* dst, float* src, int n)
    {
        int head = Math.Min(n, (int)((64 - ((nint)dst & 63)) & 63) / sizeof(float));
        Copy(dst, src, head);
        int i = head;
        for (; i + 16 <= n; i += 16)
        {
            Avx512F.StoreAlignedNonTemporal(dst + i, Vector512.Load(src + i));
        }

        Copy(dst + i, src + i, n - i);
    }

    /// <summary>
    /// The first 64-byte boundary at or after p (p + 16 floats at most): rent 16 floats more than needed. An array's own
    /// alignment varies from run to run, and vector loads split across cache lines made row kernels up to ~25% slower
    /// in some processes.
    /// </summary>
    internal static unsafe float* AlignTo64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>
    /// dst[j] += Σ_r src[r·ld + j] for j &lt; cols, added in row order, so each column gets exactly the roundings of
    /// adding the rows one after another into dst; but 64 columns at a time stay in registers across all rows, instead
    /// of a library call per row (for a Linear layer's db on [256, 192], ~6 % of its backward pass).
    /// </summary>
    internal static unsafe void AddColumnSums(float* dst, float* src, int rows, int cols, int ld)
    {
        if (!Avx512F.IsSupported)
        {
            var target = new Span<float>(dst, cols);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Add(target, new ReadOnlySpan<float>(src + ((nint)r * ld), cols), target);
            }

            return;
        }

        for (int j = 0; j < cols; j += 64)
        {
            int left = cols - j;
            Vector512<float> m0 = LaneMask(left), m1 = LaneMask(left - 16), m2 = LaneMask(left - 32), m3 = LaneMask(left - 48);
            float* d = dst + j;
            Vector512<float> a0 = Avx512F.MaskLoad(d, m0, Vector512<float>.Zero);
            Vector512<float> a1 = Avx512F.MaskLoad(d + 16, m1, Vector512<float>.Zero);
            Vector512<float> a2 = Avx512F.MaskLoad(d + 32, m2, Vector512<float>.Zero);
            Vector512<float> a3 = Avx512F.MaskLoad(d + 48, m3, Vector512<float>.Zero);
            float* p = src + j;
            for (int r = 0; r < rows; r++, p += ld)
            {
                a0 += Avx512F.MaskLoad(p, m0, Vector512<float>.Zero);
                a1 += Avx512F.MaskLoad(p + 16, m1, Vector512<float>.Zero);
                a2 += Avx512F.MaskLoad(p + 32, m2, Vector512<float>.Zero);
                a3 += Avx512F.MaskLoad(p + 48, m3, Vector512<float>.Zero);
            }

            Avx512F.MaskStore(d, m0, a0);
            Avx512F.MaskStore(d + 16, m1, a1);
            Avx512F.MaskStore(d + 32, m2, a2);
            Avx512F.MaskStore(d + 48, m3, a3);
        }
    }

    /// <summary>dst[0 .. n) = src[0 .. n).</summary>
    internal static unsafe void Copy(float* dst, float* src, int n)
    {
        if (!Avx512F.IsSupported)
        {
            new ReadOnlySpan<float>(src, n).CopyTo(new Span<float>(dst, n));
            return;
        }

        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector512.Load(src + i).Store(dst + i);
        }

        if (i < n)
        {
            Vector512<float> m = LaneMask(n - i);
            Avx512F.MaskStore(dst + i, m, Avx512F.MaskLoad(src + i, m, Vector512<float>.Zero));
        }
    }
}
