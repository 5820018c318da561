// Row-wise softmax, numerically stable.   x, y: [N, C]
//
//   y[n,c] = exp(x[n,c] − max_n) / Σ_k exp(x[n,k] − max_n)          max_n = max_k x[n,k]
//
// Subtracting the row max changes nothing mathematically (it cancels) but keeps every exponent ≤ 0, so exp
// never overflows and the largest term is exactly 1 (the sum is in [1, C]).
// Backward (the Jacobian diag(y) − y·yᵀ applied to dy):
//   dx[n,c] += y[n,c]·( dy[n,c] − Σ_k dy[n,k]·y[n,k] )
//
// Numerics: exp runs on x − max ≤ 0 only, so the fast path uses its own vector exp for that range (a degree-5
// minimax polynomial on [−ln2/2, ln2/2] times 2ⁿ, ≤ 1.9e-7 relative error; values below e^−87.3 ≈ 1.2e−38 are
// flushed to 0, which cannot change a probability visibly since the largest term is 1). .NET's Vector512.Exp
// is accurate to double precision but several times slower. Sums are float vector lanes; the reference
// computes in double. NaN anywhere in a row makes the whole row NaN; +∞ does too
// (∞ − ∞); −∞ entries give exactly 0 (unless the whole row is −∞, which gives NaN, as PyTorch).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>Softmax over the last axis of a row-major <c>[N, C]</c> batch, and its backward.</summary>
public static class Softmax
{
    /// <summary>y = softmax(x) per row, max-subtracted (fast path).</summary>
    /// <param name="x">Logits, <c>[N, C]</c>.</param>
    /// <param name="y">Probabilities, <c>[N, C]</c>; must not overlap <paramref name="x"/>.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Classes C (the softmax axis).</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, int n, int c)
    {
        ValidateForward(x, y, n, c);
        fixed (float* px = x, py = y)
        {
            int minRows = LayerNorm.MinRowsPerThread(c);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new ForwardBody(px, py, c);
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                Rows(px, py, 0, n, c, null, null, Interleaves(n, c));
            }
        }
    }

    private readonly unsafe struct ForwardBody(float* x, float* y, int c) : IRangeBody
    {
        public void Run(int start, int end) => Rows(x, y, start, end, c, null, null, Interleaves(end - start, c));
    }

    private readonly unsafe struct BackwardBody(float* dy, float* y, float* dx, int c, bool prefetch) : IRangeBody
    {
        public void Run(int start, int end)
        {
            for (int row = start; row < end; row++)
            {
                long o = (long)row * c;
                BackwardRow(dy + o, y + o, dx + o, c, prefetch);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>, computed in double.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, int n, int c)
    {
        ValidateForward(x, y, n, c);
        for (int row = 0; row < n; row++)
        {
            int o = row * c;
            double max = double.NegativeInfinity;
            for (int i = 0; i < c; i++)
            {
                max = Math.Max(max, x[o + i]);
            }

            double sum = 0;
            for (int i = 0; i < c; i++)
            {
                sum += Math.Exp(x[o + i] - max);
            }

            for (int i = 0; i < c; i++)
            {
                y[o + i] = (float)(Math.Exp(x[o + i] - max) / sum);
            }
        }
    }

    /// <summary>dx += y·(dy − Σ dy·y) per row (fast path).</summary>
    /// <param name="dy">Gradient of the output, <c>[N, C]</c>.</param>
    /// <param name="y">The forward output, <c>[N, C]</c>.</param>
    /// <param name="dx">Accumulates the input gradient, <c>[N, C]</c>; separate from both inputs.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="c">Classes C.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, int n, int c)
    {
        ValidateBackward(dy, y, dx, n, c);
        fixed (float* pdy = dy, py = y, pdx = dx)
        {
            int minRows = LayerNorm.MinRowsPerThread(c);
            bool prefetch = PrefetchesRows(n, c);
            if (KernelThreads.Max > 1 && n >= 2 * minRows)
            {
                var body = new BackwardBody(pdy, py, pdx, c, prefetch);
                KernelThreads.For(n, minRows, ref body);
            }
            else
            {
                for (int row = 0; row < n; row++)
                {
                    long o = (long)row * c;
                    BackwardRow(pdy + o, py + o, pdx + o, c, prefetch);
                }
            }
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>, the dot product in double.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, int n, int c)
    {
        ValidateBackward(dy, y, dx, n, c);
        for (int row = 0; row < n; row++)
        {
            int o = row * c;
            double dot = 0;
            for (int i = 0; i < c; i++)
            {
                dot += (double)dy[o + i] * y[o + i];
            }

            for (int i = 0; i < c; i++)
            {
                dx[o + i] += (float)(y[o + i] * (dy[o + i] - dot));
            }
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, Span<float> y, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(x.Length, n, c, nameof(x));
        RowChecks.MatrixDestination(y.Length, n, c, nameof(y));
        Check.NoOverlap(x, nameof(x), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, int n, int c)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(c, nameof(c));
        RowChecks.Matrix(dy.Length, n, c, nameof(dy));
        RowChecks.Matrix(y.Length, n, c, nameof(y));
        RowChecks.MatrixDestination(dx.Length, n, c, nameof(dx));
        Check.NoOverlap(dy, nameof(dy), dx, nameof(dx));
        Check.NoOverlap(y, nameof(y), dx, nameof(dx));
    }

    /// <summary>
    /// Rows [start, end) of x[N, c] into y; each row's max and Σ go to <paramref name="maxes"/>[row] and
    /// <paramref name="sums"/>[row] when those are not null (SoftmaxCrossEntropy needs log Σ + max).
    /// <paramref name="interleave"/> (from <see cref="Interleaves"/> on the whole input the caller works through)
    /// picks four rows at a time.
    /// </summary>
    internal static unsafe void Rows(float* x, float* y, int start, int end, int c, float* maxes, float* sums, bool interleave)
    {
        int row = start;
        if (interleave)
        {
            for (; row + 4 <= end; row += 4)
            {
                long o = (long)row * c;
                Rows4(x + o, y + o, c, maxes == null ? null : maxes + row, sums == null ? null : sums + row);
            }
        }

        for (; row < end; row++)
        {
            long o = (long)row * c;
            (float max, float sum) = Row(x + o, y + o, c);
            if (maxes != null)
            {
                maxes[row] = max;
                sums[row] = sum;
            }
        }
    }

    // The most floats per input that still count as cache-resident: the limit for going four rows at a time, and, past
    // it, for the backward pass's prefetches (PrefetchesRows).
    // Four rows at a time only while x and y stay in the core's caches (2 × 2 MB here): from main memory, four short
    // streams 1 row apart defeat the prefetcher that one long row-after-row stream keeps busy (4096×256 forward took
    // ~990 µs interleaved against ~640 µs one row at a time, while 512×256 went from ~85 to ~63 µs).
    // Rows shorter than one vector keep the one-row path (their exp is MathF.Exp in the scalar tail), so the small
    // classifiers of the reproductions (2 classes, 14 tokens) train exactly as they were calibrated.
    private const long CacheResidentMaxFloats = 1 << 19;

    /// <summary>Whether <paramref name="rows"/> rows of <paramref name="c"/> (all a caller's rows, not one chunk of them) go four at a time.</summary>
    internal static bool Interleaves(long rows, int c) => Avx512F.IsSupported && c >= 16 && rows * c <= CacheResidentMaxFloats;

    /// <summary>
    /// Four rows at once, step by step (all four maxima, then all four exp-and-sum passes, then all four scalings):
    /// one row is a chain of dependent steps (max → reduce → exp → sum → reduce → divide), so for short rows a
    /// lone row leaves the core waiting on latency, while four independent chains keep it busy.
    /// </summary>
    private static unsafe void Rows4(float* x, float* y, int c, float* maxes, float* sums)
    {
        float* x1 = x + c, x2 = x1 + c, x3 = x2 + c;
        float* y1 = y + c, y2 = y1 + c, y3 = y2 + c;
        Vector512<float> ninf = Vector512.Create(float.NegativeInfinity);

        // Whole vectors are plain loads and stores; the ragged end of a row (c not a multiple of 16) is one vector
        // under a lane mask, whose masked-off lanes read −∞: that leaves the max alone, its exp is exactly 0, and they
        // are never stored. (Masking every vector instead cost ~20 % of the time: 8×64 ~134 → ~107 ns, 512×256
        // ~34 → ~29 µs, measured on the kernel alone.)
        int whole = c & ~15;
        Vector512<float> keep = RowVectors.LaneMask(c - whole);
        Vector512<float> m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
        for (int i = 0; i < whole; i += 16)
        {
            m0 = Vector512.MaxNative(m0, Vector512.Load(x + i));
            m1 = Vector512.MaxNative(m1, Vector512.Load(x1 + i));
            m2 = Vector512.MaxNative(m2, Vector512.Load(x2 + i));
            m3 = Vector512.MaxNative(m3, Vector512.Load(x3 + i));
        }

        if (whole < c)
        {
            m0 = Vector512.MaxNative(m0, Avx512F.MaskLoad(x + whole, keep, ninf));
            m1 = Vector512.MaxNative(m1, Avx512F.MaskLoad(x1 + whole, keep, ninf));
            m2 = Vector512.MaxNative(m2, Avx512F.MaskLoad(x2 + whole, keep, ninf));
            m3 = Vector512.MaxNative(m3, Avx512F.MaskLoad(x3 + whole, keep, ninf));
        }

        float max0 = RowVectors.MaxAcross(m0), max1 = RowVectors.MaxAcross(m1), max2 = RowVectors.MaxAcross(m2), max3 = RowVectors.MaxAcross(m3);
        Vector512<float> b0 = Vector512.Create(max0), b1 = Vector512.Create(max1), b2 = Vector512.Create(max2), b3 = Vector512.Create(max3);
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < whole; i += 16)
        {
            Vector512<float> e0 = ExpNonPositive(Vector512.Load(x + i) - b0);
            Vector512<float> e1 = ExpNonPositive(Vector512.Load(x1 + i) - b1);
            Vector512<float> e2 = ExpNonPositive(Vector512.Load(x2 + i) - b2);
            Vector512<float> e3 = ExpNonPositive(Vector512.Load(x3 + i) - b3);
            e0.Store(y + i);
            e1.Store(y1 + i);
            e2.Store(y2 + i);
            e3.Store(y3 + i);
            s0 += e0;
            s1 += e1;
            s2 += e2;
            s3 += e3;
        }

        if (whole < c)
        {
            Vector512<float> e0 = ExpNonPositive(Avx512F.MaskLoad(x + whole, keep, ninf) - b0);
            Vector512<float> e1 = ExpNonPositive(Avx512F.MaskLoad(x1 + whole, keep, ninf) - b1);
            Vector512<float> e2 = ExpNonPositive(Avx512F.MaskLoad(x2 + whole, keep, ninf) - b2);
            Vector512<float> e3 = ExpNonPositive(Avx512F.MaskLoad(x3 + whole, keep, ninf) - b3);
            Avx512F.MaskStore(y + whole, keep, e0);
            Avx512F.MaskStore(y1 + whole, keep, e1);
            Avx512F.MaskStore(y2 + whole, keep, e2);
            Avx512F.MaskStore(y3 + whole, keep, e3);
            s0 += e0;
            s1 += e1;
            s2 += e2;
            s3 += e3;
        }

        // Σ in every lane, bit for bit Vector512.Sum's value (so the same as the one-row path), and 1/Σ divided per lane.
        s0 = RowVectors.SumAcross(s0);
        s1 = RowVectors.SumAcross(s1);
        s2 = RowVectors.SumAcross(s2);
        s3 = RowVectors.SumAcross(s3);
        Vector512<float> r0 = Vector512<float>.One / s0, r1 = Vector512<float>.One / s1, r2 = Vector512<float>.One / s2, r3 = Vector512<float>.One / s3;
        for (int i = 0; i < whole; i += 16)
        {
            (Vector512.Load(y + i) * r0).Store(y + i);
            (Vector512.Load(y1 + i) * r1).Store(y1 + i);
            (Vector512.Load(y2 + i) * r2).Store(y2 + i);
            (Vector512.Load(y3 + i) * r3).Store(y3 + i);
        }

        if (whole < c)
        {
            Avx512F.MaskStore(y + whole, keep, Avx512F.MaskLoad(y + whole, keep, Vector512<float>.Zero) * r0);
            Avx512F.MaskStore(y1 + whole, keep, Avx512F.MaskLoad(y1 + whole, keep, Vector512<float>.Zero) * r1);
            Avx512F.MaskStore(y2 + whole, keep, Avx512F.MaskLoad(y2 + whole, keep, Vector512<float>.Zero) * r2);
            Avx512F.MaskStore(y3 + whole, keep, Avx512F.MaskLoad(y3 + whole, keep, Vector512<float>.Zero) * r3);
        }

        if (maxes != null)
        {
            maxes[0] = max0;
            maxes[1] = max1;
            maxes[2] = max2;
            maxes[3] = max3;
            sums[0] = s0.ToScalar();
            sums[1] = s1.ToScalar();
            sums[2] = s2.ToScalar();
            sums[3] = s3.ToScalar();
        }
    }

    /// <summary>One row: y = exp(x − max)/Σ, returning max and Σ (SoftmaxCrossEntropy needs log Σ + max).</summary>
    internal static unsafe (float Max, float Sum) Row(float* x, float* y, int c)
    {
        float max = RowMax(x, c);
        float sum = ExpAndSum(x, y, c, max);
        Scale(y, c, 1f / sum);
        return (max, sum);
    }

    /// <summary>Row maximum. MaxNative may drop a NaN here; the NaN then reappears in exp(x − max) and the sum.</summary>
    private static unsafe float RowMax(float* x, int c)
    {
        int i = 0;
        float m = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            Vector512<float> a0 = Vector512.Create(float.NegativeInfinity), a1 = a0;
            for (; i <= c - 32; i += 32)
            {
                a0 = Vector512.MaxNative(a0, Vector512.Load(x + i));
                a1 = Vector512.MaxNative(a1, Vector512.Load(x + i + 16));
            }

            if (i <= c - 16)
            {
                a0 = Vector512.MaxNative(a0, Vector512.Load(x + i));
                i += 16;
            }

            m = RowVectors.MaxAcross(Vector512.MaxNative(a0, a1));
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> a0 = Vector256.Create(float.NegativeInfinity);
            for (; i <= c - 8; i += 8)
            {
                a0 = Vector256.MaxNative(a0, Vector256.Load(x + i));
            }

            Vector128<float> q = Vector128.MaxNative(a0.GetLower(), a0.GetUpper());
            for (int k = 0; k < 4; k++)
            {
                m = MathF.Max(m, q[k]);
            }
        }

        for (; i < c; i++)
        {
            m = MathF.Max(m, x[i]);
        }

        return m;
    }

    private static unsafe float ExpAndSum(float* x, float* y, int c, float max)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            var m = Vector512.Create(max);
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
            for (; i <= c - 32; i += 32)
            {
                Vector512<float> e0 = ExpNonPositive(Vector512.Load(x + i) - m);
                Vector512<float> e1 = ExpNonPositive(Vector512.Load(x + i + 16) - m);
                e0.Store(y + i);
                e1.Store(y + i + 16);
                a0 += e0;
                a1 += e1;
            }

            if (i <= c - 16)
            {
                Vector512<float> e0 = ExpNonPositive(Vector512.Load(x + i) - m);
                e0.Store(y + i);
                a0 += e0;
                i += 16;
            }

            s = Vector512.Sum(a0 + a1);
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            var m = Vector256.Create(max);
            Vector256<float> a0 = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8)
            {
                Vector256<float> e0 = ExpNonPositive(Vector256.Load(x + i) - m);
                e0.Store(y + i);
                a0 += e0;
            }

            s += Vector256.Sum(a0);
        }

        for (; i < c; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            s += e;
        }

        return s;
    }

    private static unsafe void Scale(float* y, int c, float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(s);
            for (; i <= c - 16; i += 16)
            {
                (Vector512.Load(y + i) * v).Store(y + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(s);
            for (; i <= c - 8; i += 8)
            {
                (Vector256.Load(y + i) * v).Store(y + i);
            }
        }

        for (; i < c; i++)
        {
            y[i] *= s;
        }
    }

    // Beyond the caches (the same limit as Interleaves), each row's dot-product pass asks for the next row's lines of
    // dy, y and dx. The pass over a row must finish before the row's update starts, and the hardware prefetchers did
    // not keep three streams that far ahead: 4096×768 took ~1,750 µs without the prefetches and ~1,300 µs with them.
    // From cache they only cost instructions (512×256: ~4 % slower), so they stay off there, and in a loop of their
    // own: a branch on `prefetch` inside the one loop made the in-cache rows ~9 % slower.
    private static bool PrefetchesRows(long rows, int c) => Sse.IsSupported && rows * c > CacheResidentMaxFloats;

    private static unsafe void BackwardRow(float* dy, float* y, float* dx, int c, bool prefetch)
    {
        int i = 0;
        float dot = 0;
        if (Vector512.IsHardwareAccelerated && c >= 16)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
            if (prefetch)
            {
                for (; i <= c - 32; i += 32)
                {
                    // The next row's lines (past the last row they are harmless: a prefetch never faults).
                    Sse.Prefetch0(dy + c + i);
                    Sse.Prefetch0(dy + c + i + 16);
                    Sse.Prefetch0(y + c + i);
                    Sse.Prefetch0(y + c + i + 16);
                    Sse.Prefetch0(dx + c + i);
                    Sse.Prefetch0(dx + c + i + 16);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), Vector512.Load(y + i), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + i + 16), Vector512.Load(y + i + 16), a1);
                }
            }

            for (; i <= c - 32; i += 32)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), Vector512.Load(y + i), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + i + 16), Vector512.Load(y + i + 16), a1);
            }

            if (i <= c - 16)
            {
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), Vector512.Load(y + i), a0);
                i += 16;
            }

            dot = Vector512.Sum(a0 + a1);
        }

        if (Vector256.IsHardwareAccelerated && i <= c - 8)
        {
            Vector256<float> a0 = Vector256<float>.Zero;
            for (; i <= c - 8; i += 8)
            {
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(dy + i), Vector256.Load(y + i), a0);
            }

            dot += Vector256.Sum(a0);
        }

        for (; i < c; i++)
        {
            dot += dy[i] * y[i];
        }

        i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var d = Vector512.Create(dot);
            for (; i <= c - 16; i += 16)
            {
                Vector512.FusedMultiplyAdd(Vector512.Load(y + i), Vector512.Load(dy + i) - d, Vector512.Load(dx + i)).Store(dx + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var d = Vector256.Create(dot);
            for (; i <= c - 8; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.Load(y + i), Vector256.Load(dy + i) - d, Vector256.Load(dx + i)).Store(dx + i);
            }
        }

        for (; i < c; i++)
        {
            dx[i] = MathF.FusedMultiplyAdd(y[i], dy[i] - dot, dx[i]);
        }
    }

    // exp(x) for x ≤ 0 (or NaN): x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-5 polynomial, 2ⁿ through the
    // exponent bits. ln2 is split into a short high part (exact n·ln2hi for |n| < 2⁹) and a low correction.
    // Rounding trick: adding 1.5·2²³ + 127 to x·log2(e) rounds it to an integer (the float's ulp there is 1) and
    // leaves n + 127 — the biased exponent of 2ⁿ — in the low mantissa bits, so one shift builds 2ⁿ.
    private const float RoundBias = 12582912f + 127f;
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f, ExpMin = -87.3f;
    // Minimax coefficients of exp(r) − 1 on [−ln2/2, ln2/2] from ARM's optimized-routines (v_expf); with this
    // reduction the result is within 1.9e-7 relative of exp over [−87, 0] (measured against Math.Exp).
    private const float C1 = 0.9999994039535522f, C2 = 0.4999912679195404f, C3 = 0.16668395698070526f,
        C4 = 0.04189976677298546f, C5 = 0.008247390389442444f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        Vector512<float> t = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(RoundBias));
        Vector512<float> n = t - Vector512.Create(RoundBias);
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        // exp(r) − 1 ≈ C1·r + C2·r² + … + C5·r⁵, evaluated in two halves (Estrin) to shorten the dependency chain.
        Vector512<float> r2 = r * r;
        Vector512<float> hi = Vector512.FusedMultiplyAdd(Vector512.Create(C5), r, Vector512.Create(C4));
        Vector512<float> lo = Vector512.FusedMultiplyAdd(Vector512.Create(C3), r, Vector512.Create(C2));
        Vector512<float> poly = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(hi, r2, lo), r2, Vector512.Create(C1) * r);
        Vector512<float> scale = (t.AsInt32() << 23).AsSingle();
        Vector512<float> e = Vector512.FusedMultiplyAdd(poly, scale, scale);
        // Below ExpMin (including −∞) 2ⁿ is not representable: the answer is 0. A NaN x makes r and p NaN, so e is NaN.
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpMin)), Vector512<float>.Zero, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        Vector256<float> t = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(RoundBias));
        Vector256<float> n = t - Vector256.Create(RoundBias);
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        // exp(r) − 1 ≈ C1·r + C2·r² + … + C5·r⁵, evaluated in two halves (Estrin) to shorten the dependency chain.
        Vector256<float> r2 = r * r;
        Vector256<float> hi = Vector256.FusedMultiplyAdd(Vector256.Create(C5), r, Vector256.Create(C4));
        Vector256<float> lo = Vector256.FusedMultiplyAdd(Vector256.Create(C3), r, Vector256.Create(C2));
        Vector256<float> poly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(hi, r2, lo), r2, Vector256.Create(C1) * r);
        Vector256<float> scale = (t.AsInt32() << 23).AsSingle();
        Vector256<float> e = Vector256.FusedMultiplyAdd(poly, scale, scale);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpMin)), Vector256<float>.Zero, e);
    }
}
