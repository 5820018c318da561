using CourseLib.Kernels;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// The packed SGEMM under Linear, for every transpose combination, each micro-kernel family (AVX-512, AVX2,
/// scalar), strided operands, accumulate on/off and 1 vs 2 threads. Reference: the plain triple loop in double;
/// tolerance 1e-5·max|ref| + 1e-6, as in <see cref="LinearTests"/>.
/// </summary>
public sealed class GemmTests
{
    // The path travels as an int: GemmPath is internal and xunit's theory methods are public.
    public static TheoryData<int, bool, bool> PathsAndLayouts()
    {
        var data = new TheoryData<int, bool, bool>();
        foreach (GemmPath p in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
        {
            foreach ((bool ta, bool tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                data.Add((int)p, ta, tb);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndLayouts))]
    public void Multiply_OddShapes_MatchesReference(int path, bool transA, bool transB)
    {
        // (16, 64, 40) and (28, 96, 130) end on a whole 4-row strip, which the AVX-512 path reads in place like the
        // 12- and 8-row ones; the others end on ragged strips and panels, which it packs.
        (int M, int N, int K)[] shapes = [(1, 1, 1), (1, 37, 5), (7, 1, 9), (5, 3, 1), (8, 32, 16), (9, 33, 17), (15, 47, 257), (16, 64, 40), (28, 96, 130), (31, 70, 300), (6, 530, 19)];
        foreach ((int m, int n, int k) in shapes)
        {
            foreach (bool accumulate in new[] { false, true })
            {
                AssertMatches((GemmPath)path, transA, transB, m, n, k, pad: 0, accumulate, threads: 1);
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndLayouts))]
    public void Multiply_StridedOperands_MatchesReference(int path, bool transA, bool transB) =>
        AssertMatches((GemmPath)path, transA, transB, 13, 45, 29, pad: 3, accumulate: true, threads: 1);

    [Theory]
    [InlineData(false, true, 200, 150, 60)]  // rows split across threads
    [InlineData(false, false, 40, 300, 200)] // columns split
    [InlineData(true, false, 96, 530, 64)]
    [InlineData(false, true, 33, 1030, 70)]
    public void Multiply_TwoThreads_BitwiseEqualToOne(bool transA, bool transB, int m, int n, int k)
    {
        Assert.True((long)m * n * k >= Gemm.ParallelThreshold, "shape must be large enough to go parallel");
        var (a, lda, b, ldb) = Operands(transA, transB, m, n, k, 0, seed: m + n + k);
        float[] c1 = Compare.Randn(m * n, 7), c2 = (float[])c1.Clone();
        Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c1, n, accumulate: true, maxThreads: 1);
        Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c2, n, accumulate: true, maxThreads: 2);
        Assert.Equal(c1, c2);
        AssertMatches(GemmPath.Auto, transA, transB, m, n, k, pad: 0, accumulate: false, threads: 2);
    }

    [Theory]
    [MemberData(nameof(PathsAndLayouts))]
    public void Multiply_WithBias_EqualsFillingCWithTheBiasThenAccumulating(int path, bool transA, bool transB)
    {
        // Linear's forward: the bias joins each tile in registers. It must give bit for bit what filling every row of
        // C with the bias and accumulating gives: edge tiles, the 8- and 4-row strips, K over one slice (KC), 2 threads.
        (int M, int N, int K)[] shapes = [(1, 1, 1), (5, 3, 1), (9, 33, 17), (13, 65, 64), (31, 70, 400), (200, 150, 60), (0, 5, 3), (4, 6, 0)];
        foreach ((int m, int n, int k) in shapes)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                var (a, lda, b, ldb) = Operands(transA, transB, Math.Max(m, 1), n, Math.Max(k, 1), 0, seed: m + (3 * n) + k);
                float[] bias = Compare.Randn(n, 5 + n);
                float[] expected = new float[m * n], c = Compare.Randn(m * n, 6); // c starts as garbage: it is written
                for (int i = 0; i < m; i++)
                {
                    bias.CopyTo(expected, i * n);
                }

                Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, expected, n, accumulate: true, (GemmPath)path, threads);
                Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate: false, (GemmPath)path, threads, bias);
                Assert.True(expected.AsSpan().SequenceEqual(c), $"m={m} n={n} k={k} threads={threads}");
            }
        }
    }

    [Fact]
    public void Multiply_ZeroDepthWithoutAccumulate_ClearsC()
    {
        float[] c = [1, 2, 3, 4, 5, 6];
        Gemm.Multiply(false, false, 2, 3, 0, [], 1, [], 3, c, 3, accumulate: false);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    private static void AssertMatches(GemmPath path, bool transA, bool transB, int m, int n, int k, int pad, bool accumulate, int threads)
    {
        var (a, lda, b, ldb) = Operands(transA, transB, m, n, k, pad, seed: (m * 31) + (n * 7) + k);
        int ldc = n + pad;
        float[] c = Compare.Randn(((m - 1) * ldc) + n, 99);
        float[] expected = (float[])c.Clone();
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? c[(i * ldc) + j] : 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                    double bv = transB ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    s += av * bv;
                }

                expected[(i * ldc) + j] = (float)s;
            }
        }

        Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, path, threads);
        Compare.Close(c, expected, 1e-5, 1e-6, $"{path} {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} m={m} n={n} k={k} pad={pad} acc={accumulate}");
    }

    private static (float[] A, int Lda, float[] B, int Ldb) Operands(bool transA, bool transB, int m, int n, int k, int pad, int seed)
    {
        // Stored A is [m, k] or [k, m]; B is [k, n] or [n, k]; each row padded by `pad` unused (NaN) elements,
        // which would poison the result if the kernel ever read them.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad;
        float[] a = Strided(Compare.Randn(aRows * aCols, seed), aRows, aCols, lda);
        float[] b = Strided(Compare.Randn(bRows * bCols, seed + 1), bRows, bCols, ldb);
        return (a, lda, b, ldb);
    }

    private static float[] Strided(float[] dense, int rows, int cols, int ld)
    {
        float[] s = new float[((rows - 1) * ld) + cols];
        s.AsSpan().Fill(float.NaN);
        for (int r = 0; r < rows; r++)
        {
            dense.AsSpan(r * cols, cols).CopyTo(s.AsSpan(r * ld, cols));
        }

        return s;
    }
}
