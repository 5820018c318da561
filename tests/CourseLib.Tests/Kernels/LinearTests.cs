using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// Linear fast path (packed SGEMM) against the plain loops, finite differences and the API contract.
/// Tolerance fast vs reference: max|diff| ≤ 1e-5·max|ref| + 1e-6. Both sum the same float products, in a
/// different order (the fast path in KC-deep slices, with FMA); for these sizes (K ≤ 600, N(0,1) data) the
/// reordering error is ~√K·2⁻²⁴ of a partial sum, a few 1e-7 of max|ref|, so 1e-5 leaves a wide margin and
/// still catches any wrong or missing term (one term is ≥ 1e-3 of max|ref|).
/// </summary>
public sealed class LinearTests
{
    private const double Rtol = 1e-5;
    private const double Atol = 1e-6;

    public static TheoryData<int> Sizes1To70() => [.. Enumerable.Range(1, 70)];

    [Theory]
    [MemberData(nameof(Sizes1To70))]
    public void ForwardBackward_SweepRows_MatchesReference(int n) => AssertFastMatchesReference(n, 13, 37, seed: n);

    [Theory]
    [MemberData(nameof(Sizes1To70))]
    public void ForwardBackward_SweepInDim_MatchesReference(int inDim) => AssertFastMatchesReference(11, inDim, 37, seed: 100 + inDim);

    [Theory]
    [MemberData(nameof(Sizes1To70))]
    public void ForwardBackward_SweepOutDim_MatchesReference(int outDim) => AssertFastMatchesReference(11, 29, outDim, seed: 200 + outDim);

    // Tile edges (8×32 AVX-512, 6×16 AVX2), k-slice edges (KC = 256) and column-block edges (NC = 512).
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 7, 1)]
    [InlineData(1, 1, 33)]
    [InlineData(7, 1, 5)]
    [InlineData(8, 32, 32)]
    [InlineData(9, 33, 31)]
    [InlineData(16, 64, 64)]
    [InlineData(17, 65, 63)]
    [InlineData(3, 255, 7)]
    [InlineData(5, 256, 9)]
    [InlineData(5, 257, 9)]
    [InlineData(255, 5, 9)]
    [InlineData(257, 5, 9)]
    [InlineData(513, 3, 7)]
    [InlineData(9, 11, 511)]
    [InlineData(9, 11, 513)]
    [InlineData(10, 513, 530)]
    [InlineData(300, 257, 129)]
    [InlineData(129, 300, 257)]
    public void ForwardBackward_EdgeShapes_MatchesReference(int n, int inDim, int outDim) =>
        AssertFastMatchesReference(n, inDim, outDim, seed: n * 7 + inDim * 3 + outDim);

    [Fact]
    public void Forward_NoBias_MatchesReference()
    {
        const int N = 19, I = 45, O = 70;
        float[] x = Compare.Randn(N * I, 1), w = Compare.Randn(O * I, 2);
        float[] y = new float[N * O], yRef = new float[N * O];
        Linear.Forward(x, w, [], y, N, I, O);
        Linear.ForwardReference(x, w, [], yRef, N, I, O);
        Compare.Close(y, yRef, Rtol, Atol, "y (no bias)");
    }

    [Fact]
    public void Forward_LongerDestination_WritesOnlyTheOutput()
    {
        const int N = 5, I = 9, O = 33;
        float[] x = Compare.Randn(N * I, 3), w = Compare.Randn(O * I, 4), b = Compare.Randn(O, 5);
        float[] y = Enumerable.Repeat(42f, N * O + 7).ToArray();
        float[] yRef = new float[N * O];
        Linear.Forward(x, w, b, y, N, I, O);
        Linear.ForwardReference(x, w, b, yRef, N, I, O);
        Compare.Close(y.AsSpan(0, N * O), yRef, Rtol, Atol, "y");
        Assert.All(y[(N * O)..], v => Assert.Equal(42f, v));
    }

    [Fact]
    public void Backward_PrefilledGradients_AreAddedTo()
    {
        const int N = 23, I = 41, O = 35;
        var (x, w, _, dy) = Inputs(N, I, O, seed: 11);
        float[] dx0 = Compare.Randn(N * I, 12), dw0 = Compare.Randn(O * I, 13), db0 = Compare.Randn(O, 14);

        float[] dxFresh = new float[N * I], dwFresh = new float[O * I], dbFresh = new float[O];
        Linear.Backward(dy, x, w, dxFresh, dwFresh, dbFresh, N, I, O);

        float[] dx = (float[])dx0.Clone(), dw = (float[])dw0.Clone(), db = (float[])db0.Clone();
        Linear.Backward(dy, x, w, dx, dw, db, N, I, O);

        Compare.Close(dx, Add(dx0, dxFresh), Rtol, Atol, "dx = prefill + dy·W");
        Compare.Close(dw, Add(dw0, dwFresh), Rtol, Atol, "dW = prefill + dyᵀ·x");
        Compare.Close(db, Add(db0, dbFresh), Rtol, Atol, "db = prefill + Σ dy");

        // A second call adds the same gradient again.
        Linear.Backward(dy, x, w, dx, dw, db, N, I, O);
        Compare.Close(dx, Add(Add(dx0, dxFresh), dxFresh), Rtol, Atol, "dx after two calls");
        Compare.Close(dw, Add(Add(dw0, dwFresh), dwFresh), Rtol, Atol, "dW after two calls");
        Compare.Close(db, Add(Add(db0, dbFresh), dbFresh), Rtol, Atol, "db after two calls");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BackwardInto_PrefilledBuffers_OverwrittenOrAccumulatedAsAsked(bool accumulateDw)
    {
        const int N = 23, I = 41, O = 35;
        var (x, w, _, dy) = Inputs(N, I, O, seed: 15);
        float[] dw0 = Compare.Randn(O * I, 16), db0 = Compare.Randn(O, 17);
        float[] dxFresh = new float[N * I], dwFresh = new float[O * I], dbFresh = new float[O];
        Linear.Backward(dy, x, w, dxFresh, dwFresh, dbFresh, N, I, O);

        float[] dx = Compare.Randn(N * I, 18), dw = (float[])dw0.Clone(), db = (float[])db0.Clone();
        dx[5] = float.NaN; // whatever an overwritten buffer held, NaN included, must not leak into the result
        if (!accumulateDw)
        {
            dw[7] = float.NaN;
        }

        Linear.BackwardInto(dy, x, w, dx, dw, db, N, I, O, accumulateDx: false, accumulateDw);

        Assert.Equal(dxFresh, dx);
        if (accumulateDw)
        {
            Compare.Close(dw, Add(dw0, dwFresh), Rtol, Atol, "dW = prefill + dyᵀ·x");
        }
        else
        {
            Assert.Equal(dwFresh, dw);
        }

        Compare.Close(db, Add(db0, dbFresh), Rtol, Atol, "db = prefill + Σ dy");
    }

    [Fact]
    public void Backward_Db_IsTheRowOrderSumExactly()
    {
        // db accumulates the rows of dy in order; the vectorised column sums must give exactly those roundings, for
        // widths with every kind of ragged end (masked vectors, a partial 64-column block).
        foreach (int o in new[] { 1, 15, 16, 17, 63, 64, 65, 130, 192 })
        {
            const int N = 37, I = 3;
            var (x, w, _, dy) = Inputs(N, I, o, seed: 40 + o);
            float[] db = Compare.Randn(o, 41), expected = (float[])db.Clone();
            for (int r = 0; r < N; r++)
            {
                for (int j = 0; j < o; j++)
                {
                    expected[j] += dy[r * o + j];
                }
            }

            Linear.Backward(dy, x, w, [], [], db, N, I, o);
            Assert.Equal(expected, db);
        }
    }

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(true, true, false)]
    [InlineData(false, false, true)]
    [InlineData(false, false, false)]
    public void Backward_EmptySpans_SkipThoseGradients(bool wantDx, bool wantDw, bool wantDb)
    {
        const int N = 9, I = 17, O = 40;
        var (x, w, _, dy) = Inputs(N, I, O, seed: 21);
        float[] dxAll = new float[N * I], dwAll = new float[O * I], dbAll = new float[O];
        Linear.Backward(dy, x, w, dxAll, dwAll, dbAll, N, I, O);

        float[] dx = wantDx ? new float[N * I] : [];
        float[] dw = wantDw ? new float[O * I] : [];
        float[] db = wantDb ? new float[O] : [];
        Linear.Backward(dy, x, w, dx, dw, db, N, I, O);
        if (wantDx)
        {
            Assert.Equal(dxAll, dx);
        }

        if (wantDw)
        {
            Assert.Equal(dwAll, dw);
        }

        if (wantDb)
        {
            Assert.Equal(dbAll, db);
        }
    }

    [Fact]
    public void Backward_AllGradients_MatchFiniteDifferences()
    {
        const int N = 4, I = 6, O = 5;
        var (x, w, b, _) = Inputs(N, I, O, seed: 31);
        // L = Σ y ⊙ g, so dL/dy = g. L is linear in each of x, W, b: central differences have no truncation
        // error, only float rounding of y, which a 1e-2 step divides down to ~1e-5 of the gradient.
        float[] g = Compare.Randn(N * O, 32);
        float[] y = new float[N * O];
        double Loss()
        {
            Linear.Forward(x, w, b, y, N, I, O);
            double s = 0;
            for (int i = 0; i < y.Length; i++)
            {
                s += (double)y[i] * g[i];
            }

            return s;
        }

        double[] dxNum = GradientChecker.Numerical(x, Loss, 1e-2);
        double[] dwNum = GradientChecker.Numerical(w, Loss, 1e-2);
        double[] dbNum = GradientChecker.Numerical(b, Loss, 1e-2);
        float[] dx = new float[N * I], dw = new float[O * I], db = new float[O];
        Linear.Backward(g, x, w, dx, dw, db, N, I, O);

        Assert.True(GradientChecker.RelativeError(dx, dxNum) < 1e-4, $"dx vs finite differences: {GradientChecker.RelativeError(dx, dxNum):E2}");
        Assert.True(GradientChecker.RelativeError(dw, dwNum) < 1e-4, $"dW vs finite differences: {GradientChecker.RelativeError(dw, dwNum):E2}");
        Assert.True(GradientChecker.RelativeError(db, dbNum) < 1e-4, $"db vs finite differences: {GradientChecker.RelativeError(db, dbNum):E2}");
    }

    [Fact]
    public void Forward_NaNInOneRow_PropagatesToThatRowOnly()
    {
        const int N = 12, I = 40, O = 33;
        var (x, w, b, _) = Inputs(N, I, O, seed: 41);
        x[5 * I + 17] = float.NaN;
        float[] y = new float[N * O];
        Linear.Forward(x, w, b, y, N, I, O);
        for (int r = 0; r < N; r++)
        {
            for (int o = 0; o < O; o++)
            {
                Assert.True(float.IsNaN(y[r * O + o]) == (r == 5), $"y[{r}, {o}] = {y[r * O + o]}");
            }
        }
    }

    [Fact]
    public void ForwardBackward_SteadyState_AllocatesNothing()
    {
        const int N = 16, I = 64, O = 96; // below the threading threshold: the call stays on this thread
        var (x, w, b, dy) = Inputs(N, I, O, seed: 51);
        float[] y = new float[N * O], dx = new float[N * I], dw = new float[O * I], db = new float[O];
        Linear.Forward(x, w, b, y, N, I, O);
        Linear.Backward(dy, x, w, dx, dw, db, N, I, O);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            Linear.Forward(x, w, b, y, N, I, O);
            Linear.Backward(dy, x, w, dx, dw, db, N, I, O);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ForwardBackward_TwoThreadsSteadyState_CanRunWithoutAllocating()
    {
        const int N = 64, I = 128, O = 256; // 2M multiply-adds: above the threading threshold
        Assert.True((long)N * I * O >= Gemm.ParallelThreshold);
        var (x, w, b, dy) = Inputs(N, I, O, seed: 61);
        float[] y = new float[N * O], dx = new float[N * I], dw = new float[O * I], db = new float[O];
        Linear.Forward(x, w, b, y, N, I, O);
        Linear.Backward(dy, x, w, dx, dw, db, N, I, O);

        // The parked helper threads allocate nothing per call. Another test using them at the same moment sends
        // a call to the Parallel.For fallback, which does; so require one clean call out of many, not all.
        long least = long.MaxValue;
        for (int i = 0; i < 50 && least > 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Linear.Forward(x, w, b, y, N, I, O);
            Linear.Backward(dy, x, w, dx, dw, db, N, I, O);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, least);
    }

    [Fact]
    public void Forward_WrongInputLength_ThrowsNamingXAndSizes()
    {
        float[] w = new float[6 * 4], y = new float[3 * 6];
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[11], w, [], y, 3, 4, 6));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("11", e.Message, StringComparison.Ordinal);
        Assert.Contains("3·4 = 12", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WrongWeightLength_ThrowsNamingW()
    {
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[12], new float[23], [], new float[18], 3, 4, 6));
        Assert.Equal("w", e.ParamName);
        Assert.Contains("6·4 = 24", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WrongBiasLength_ThrowsNamingB()
    {
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[12], new float[24], new float[5], new float[18], 3, 4, 6));
        Assert.Equal("b", e.ParamName);
    }

    [Theory]
    [InlineData(0, 4, 6, "n")]
    [InlineData(3, 0, 6, "inDim")]
    [InlineData(3, 4, -1, "outDim")]
    public void Forward_NonPositiveDimension_Throws(int n, int inDim, int outDim, string name)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Linear.Forward(new float[12], new float[24], [], new float[18], n, inDim, outDim));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public void Forward_ShortDestination_ThrowsNamingY()
    {
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[12], new float[24], [], new float[17], 3, 4, 6));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("3·6 = 18", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_OutputOverlapsInput_Throws()
    {
        float[] buffer = new float[40];
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(buffer.AsSpan(0, 12), new float[24], [], buffer.AsSpan(10, 18), 3, 4, 6));
        Assert.Equal("y", e.ParamName);
        Assert.Contains("overlaps x", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_OutputOverlapsWeights_Throws()
    {
        float[] buffer = new float[60];
        var e = Assert.Throws<ArgumentException>(() => Linear.Forward(new float[12], buffer.AsSpan(0, 24), [], buffer.AsSpan(20, 18), 3, 4, 6));
        Assert.Contains("overlaps w", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_ShortGradient_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(new float[18], new float[12], new float[24], new float[12], new float[23], [], 3, 4, 6));
        Assert.Equal("dw", e.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(new float[18], new float[12], new float[24], new float[11], [], [], 3, 4, 6));
        Assert.Equal("dx", e2.ParamName);
        var e3 = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(new float[18], new float[12], new float[24], [], [], new float[5], 3, 4, 6));
        Assert.Equal("db", e3.ParamName);
    }

    [Fact]
    public void Backward_WrongUpstreamLength_ThrowsNamingDy()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(new float[17], new float[12], new float[24], new float[12], [], [], 3, 4, 6));
        Assert.Equal("dy", e.ParamName);
    }

    [Fact]
    public void Backward_GradientOverlapsInput_Throws()
    {
        float[] buffer = new float[40];
        var e = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(new float[18], buffer.AsSpan(0, 12), new float[24], [], buffer.AsSpan(4, 24), [], 3, 4, 6));
        Assert.Equal("dw", e.ParamName);
    }

    [Fact]
    public void Backward_InputGradientOverlapsUpstream_Throws()
    {
        float[] buffer = new float[40];
        var e = Assert.Throws<ArgumentException>(() =>
            Linear.Backward(buffer.AsSpan(0, 18), new float[12], new float[24], buffer.AsSpan(10, 12), [], [], 3, 4, 6));
        Assert.Equal("dx", e.ParamName);
    }

    private static void AssertFastMatchesReference(int n, int inDim, int outDim, int seed)
    {
        var (x, w, b, dy) = Inputs(n, inDim, outDim, seed);
        float[] y = new float[n * outDim], yRef = new float[n * outDim];
        Linear.Forward(x, w, b, y, n, inDim, outDim);
        Linear.ForwardReference(x, w, b, yRef, n, inDim, outDim);
        string shape = $"[{n}×{inDim}→{outDim}]";
        Compare.Close(y, yRef, Rtol, Atol, $"y {shape}");

        // Start from non-zero gradients so the accumulation is part of what is compared.
        float[] dx = Compare.Randn(n * inDim, seed + 1), dw = Compare.Randn(outDim * inDim, seed + 2), db = Compare.Randn(outDim, seed + 3);
        float[] dxRef = (float[])dx.Clone(), dwRef = (float[])dw.Clone(), dbRef = (float[])db.Clone();
        Linear.Backward(dy, x, w, dx, dw, db, n, inDim, outDim);
        Linear.BackwardReference(dy, x, w, dxRef, dwRef, dbRef, n, inDim, outDim);
        Compare.Close(dx, dxRef, Rtol, Atol, $"dx {shape}");
        Compare.Close(dw, dwRef, Rtol, Atol, $"dW {shape}");
        Compare.Close(db, dbRef, Rtol, Atol, $"db {shape}");
    }

    internal static (float[] X, float[] W, float[] B, float[] Dy) Inputs(int n, int inDim, int outDim, int seed) =>
        (Compare.Randn(n * inDim, seed * 4),
         Compare.Randn(outDim * inDim, (seed * 4) + 1, 1f / MathF.Sqrt(inDim)),
         Compare.Randn(outDim, (seed * 4) + 2, 0.1f),
         Compare.Randn(n * outDim, (seed * 4) + 3));

    private static float[] Add(float[] a, float[] b) => [.. a.Zip(b, (p, q) => p + q)];

    /// <summary>The tests that set the thread cap, which run alone (<see cref="KernelThreadsSerial"/>).</summary>
    [Collection(KernelThreadsSerial.Name)]
    public sealed class OnSetThreadCounts
    {
        [Theory]
        [InlineData(1, true)]
        [InlineData(3, false)]
        [InlineData(4, true)]
        public void Forward_FewRowsLargeWeight_MatchesReferenceOnAnyThreadCount(int n, bool bias)
        {
            // N ≤ MatVecMaxRows takes the dot-product path; O·I above the threading threshold splits the outputs.
            const int I = 515, O = 2051;
            Assert.True(n <= Linear.MatVecMaxRows && (long)O * I >= Gemm.ParallelThreshold);
            float[] x = Compare.Randn(n * I, 41 + n), w = Compare.Randn(O * I, 42), b = bias ? Compare.Randn(O, 43) : [];
            float[] yRef = new float[n * O], y1 = new float[n * O], y2 = new float[n * O];
            Linear.ForwardReference(x, w, b, yRef, n, I, O);
            using (ThreadCap.Set(1))
            {
                Linear.Forward(x, w, b, y1, n, I, O);
            }

            using (ThreadCap.Set(2))
            {
                Linear.Forward(x, w, b, y2, n, I, O);
            }

            Compare.Close(y1, yRef, Rtol, Atol, $"y ({n} rows)");
            Assert.Equal(y1, y2);
        }
    }
}
