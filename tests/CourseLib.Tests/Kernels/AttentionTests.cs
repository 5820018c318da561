using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using CourseLib.Torch;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

public sealed class AttentionTests(ITestOutputHelper output)
{
    // Fast and reference paths sum in different orders (vectors of 16 vs one by one); over d ≤ 130 and T ≤ 100
    // terms float32 rounding stays far below this.
    private const double FastRtol = 2e-6;
    private const double FastAtol = 1e-7;

    private static (float[] Out, float[] Att) RunForward(float[] qkv, int b, int t, int c, int h, bool reference)
    {
        var o = new float[b * t * c];
        var att = new float[b * h * t * t];
        if (reference)
        {
            Attention.ForwardReference(qkv, o, att, b, t, c, h);
        }
        else
        {
            Attention.Forward(qkv, o, att, b, t, c, h);
        }

        return (o, att);
    }

    private static float[] RunBackward(float[] dout, float[] qkv, float[] att, int b, int t, int c, int h, bool reference, float[]? initial = null)
    {
        var dqkv = initial is null ? new float[qkv.Length] : (float[])initial.Clone();
        if (reference)
        {
            Attention.BackwardReference(dout, qkv, att, dqkv, b, t, c, h);
        }
        else
        {
            Attention.Backward(dout, qkv, att, dqkv, b, t, c, h);
        }

        return dqkv;
    }

    private static void FastMatchesReference(int b, int t, int c, int h, int seed)
    {
        float[] qkv = Compare.Randn(b * t * 3 * c, seed);
        float[] dout = Compare.Randn(b * t * c, seed + 1);
        // Backward accumulates: start from a non-zero gradient to check "+=" and not "=".
        float[] start = Compare.Randn(qkv.Length, seed + 2);
        var (refOut, refAtt) = RunForward(qkv, b, t, c, h, reference: true);
        var (fastOut, fastAtt) = RunForward(qkv, b, t, c, h, reference: false);
        string shape = $"B={b} T={t} C={c} H={h}";
        Compare.Close(fastOut, refOut, FastRtol, FastAtol, $"out {shape}");
        Compare.Close(fastAtt, refAtt, FastRtol, FastAtol, $"att {shape}");
        float[] refD = RunBackward(dout, qkv, refAtt, b, t, c, h, reference: true, start);
        float[] fastD = RunBackward(dout, qkv, refAtt, b, t, c, h, reference: false, start);
        Compare.Close(fastD, refD, FastRtol, FastAtol, $"dqkv {shape}");
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]     // T = 1, d = 1
    [InlineData(1, 1, 64, 4)]
    [InlineData(2, 7, 3, 3)]     // d = 1, three heads
    [InlineData(1, 17, 51, 3)]   // d = 17
    [InlineData(3, 33, 30, 2)]   // d = 15, odd T past two vectors of keys
    [InlineData(1, 65, 128, 2)]  // d = 64: the 4-vector paths, T past four vectors of keys
    [InlineData(2, 100, 130, 1)] // d = 130: 4-vector block plus tail vectors
    [InlineData(1, 129, 96, 1)]  // d = 96: one 64 block and two single vectors
    [InlineData(8, 32, 64, 4)]   // d = 16: the tiny LM's shape (K and V transposed in 16 × 16 blocks)
    [InlineData(2, 33, 128, 4)]  // d = 32: two blocks of dimensions, a last block of one key
    public void Forward_Backward_OddShapes_MatchReference(int b, int t, int c, int h) => FastMatchesReference(b, t, c, h, seed: 100 + t + c);

    [Fact]
    public void BackwardOverwriting_PrefilledDqkv_EqualsAccumulatingIntoZeros()
    {
        // The layer's path: every element of dqkv is produced exactly once, so it is written, not accumulated. Shapes
        // with ragged query groups (T mod 4 ≠ 0) and one large enough to run on two threads.
        foreach ((int b, int t, int c, int h) in new[] { (2, 7, 16, 2), (3, 33, 64, 4), (8, 64, 128, 4) })
        {
            float[] qkv = Compare.Randn(b * t * 3 * c, t), o = new float[b * t * c], att = new float[b * h * t * t];
            Attention.Forward(qkv, o, att, b, t, c, h);
            float[] dout = Compare.Randn(b * t * c, t + 1);
            float[] expected = new float[b * t * 3 * c], dqkv = Compare.Randn(b * t * 3 * c, t + 2);
            dqkv[5] = float.NaN; // whatever the buffer held, NaN included, must not leak into the result
            Attention.Backward(dout, qkv, att, expected, b, t, c, h);
            Attention.BackwardOverwriting(dout, qkv, att, dqkv, b, t, c, h);
            Assert.True(expected.AsSpan().SequenceEqual(dqkv), $"b={b} t={t} c={c} h={h}");
        }
    }

    [Fact]
    public unsafe void SoftmaxRows4_FourQueriesTogether_EqualFourSingleRowsExactly()
    {
        // The interleaved softmax of four consecutive causal rows must give bit for bit what the one-row kernel
        // gives (so training curves do not depend on T mod 4): every start n0, rows of one to several vectors,
        // attention rows that end mid-vector, a NaN row and an all-equal row.
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
        {
            return;
        }

        foreach (int t in new[] { 4, 5, 16, 17, 32, 33, 50 })
        {
            int tp = (t + 15) / 16 * 16;
            for (int n0 = 1; n0 + 3 <= t; n0++)
            {
                float[] scores = Compare.Randn(4 * tp, 100 + n0, 3f);
                if (n0 == 2)
                {
                    scores[tp + 1] = float.NaN;             // row 1 is NaN
                    Array.Fill(scores, 0.5f, 2 * tp, tp);   // row 2: equal scores
                }

                float[] single = new float[4 * t], together = new float[4 * t];
                Array.Fill(single, 9f);
                Array.Fill(together, 9f);
                float[] work = (float[])scores.Clone();
                fixed (float* ps = scores, pw = work, p1 = single, p4 = together)
                {
                    for (int r = 0; r < 4; r++)
                    {
                        Attention.SoftmaxRow(pw + r * tp, n0 + r, 0.25f, p1 + r * t, t);
                    }

                    Attention.SoftmaxRows4(ps, tp, n0, 0.25f, p4, t);
                }

                Assert.True(single.AsSpan().SequenceEqual(together), $"t={t} n0={n0}");
            }
        }
    }

    [Fact]
    public void Forward_Backward_EveryHeadSize1To80_MatchesReference()
    {
        for (int d = 1; d <= 80; d++)
        {
            FastMatchesReference(1, 19, 2 * d, 2, seed: d);
        }
    }

    [Fact]
    public void Forward_Backward_EveryLength1To70_MatchesReference()
    {
        for (int t = 1; t <= 70; t++)
        {
            FastMatchesReference(1, t, 10, 2, seed: 1000 + t);
        }
    }

    [Fact]
    public void Forward_Att_IsCausalDistribution()
    {
        int b = 2, t = 9, c = 12, h = 3;
        var (_, att) = RunForward(Compare.Randn(b * t * 3 * c, 5), b, t, c, h, reference: false);
        for (int row = 0; row < b * h * t; row++)
        {
            int ti = row % t;
            double sum = 0;
            for (int t2 = 0; t2 < t; t2++)
            {
                float a = att[row * t + t2];
                if (t2 > ti)
                {
                    Assert.Equal(0f, a);
                }
                else
                {
                    Assert.True(a > 0f, $"att[{row}, {t2}] = {a}");
                }

                sum += a;
            }

            Assert.True(Math.Abs(sum - 1) < 1e-6, $"row {row} sums to {sum}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_LaterTokenChanged_EarlierOutputsUnchanged(bool reference)
    {
        int b = 2, t = 12, c = 32, h = 4, changed = 7;
        float[] qkv = Compare.Randn(b * t * 3 * c, 11);
        var (before, _) = RunForward(qkv, b, t, c, h, reference);
        for (int bi = 0; bi < b; bi++)
        {
            for (int j = 0; j < 3 * c; j++)
            {
                qkv[(bi * t + changed) * 3 * c + j] += 5f;
            }
        }

        var (after, _) = RunForward(qkv, b, t, c, h, reference);
        for (int bi = 0; bi < b; bi++)
        {
            for (int ti = 0; ti < t; ti++)
            {
                var x = before.AsSpan((bi * t + ti) * c, c);
                var y = after.AsSpan((bi * t + ti) * c, c);
                if (ti < changed)
                {
                    Assert.True(x.SequenceEqual(y), $"token {ti} changed when only token {changed} was edited");
                }
                else
                {
                    Assert.False(x.SequenceEqual(y), $"token {ti} did not see the edit of token {changed}");
                }
            }
        }
    }

    [Fact]
    public void Forward_LargeScores_StaysFinite()
    {
        // Scores around ±10⁴ overflow exp() without the max subtraction.
        int b = 1, t = 6, c = 8, h = 2;
        float[] qkv = Compare.Randn(b * t * 3 * c, 3, scale: 300f);
        var (o, att) = RunForward(qkv, b, t, c, h, reference: false);
        Assert.All(o, v => Assert.True(float.IsFinite(v)));
        Assert.All(att, v => Assert.True(float.IsFinite(v)));
        var (refOut, _) = RunForward(qkv, b, t, c, h, reference: true);
        Compare.Close(o, refOut, 1e-5, 0, "out with large scores");
    }

    [Fact]
    public void Forward_NaNInQuery_PropagatesToThatRow()
    {
        int b = 1, t = 4, c = 4, h = 1;
        float[] qkv = Compare.Randn(b * t * 3 * c, 9);
        qkv[2 * 3 * c] = float.NaN; // query of token 2
        var (o, _) = RunForward(qkv, b, t, c, h, reference: false);
        Assert.True(float.IsNaN(o[2 * c]));
        Assert.True(float.IsFinite(o[0]) && float.IsFinite(o[c]));
    }

    [Fact]
    public void Backward_TinyCase_MatchesFiniteDifferences()
    {
        int b = 2, t = 3, c = 6, h = 2;
        float[] qkv = Compare.Randn(b * t * 3 * c, 21);
        float[] weights = Compare.Randn(b * t * c, 22);
        var o = new float[b * t * c];
        var att = new float[b * h * t * t];

        // L = Σ weights ⊙ out, so dL/dout = weights.
        double Loss()
        {
            Attention.Forward(qkv, o, att, b, t, c, h);
            double l = 0;
            for (int i = 0; i < o.Length; i++)
            {
                l += (double)weights[i] * o[i];
            }

            return l;
        }

        double[] numerical = GradientChecker.Numerical(qkv, Loss);
        Attention.Forward(qkv, o, att, b, t, c, h);
        foreach (bool reference in new[] { false, true })
        {
            float[] dqkv = RunBackward(weights, qkv, att, b, t, c, h, reference);
            double err = GradientChecker.RelativeError(dqkv, numerical);
            output.WriteLine($"dqkv vs finite differences ({(reference ? "reference" : "fast")}): max|diff|/max|ref| = {err:E2}");
            // Central differences with h = 1e-3 on a float32 forward: O(h²) truncation plus ~1e-7/h rounding.
            Compare.Close(dqkv, numerical, 2e-3, 1e-4, $"dqkv vs finite differences ({(reference ? "reference" : "fast")})");
        }
    }

    [Theory]
    [InlineData(1, 1, 8, 2)]
    [InlineData(2, 13, 24, 3)]
    [InlineData(2, 64, 128, 2)]
    [InlineData(1, 37, 96, 4)]
    public void Forward_Backward_MatchTorchSharp(int b, int t, int c, int h)
    {
        TorchRuntime.Initialize();
        int d = c / h;
        float[] qkvData = Compare.Randn(b * t * 3 * c, 31 + t);
        float[] doutData = Compare.Randn(b * t * c, 32 + t);

        using var scope = NewDisposeScope();
        Tensor qkv = TorchInterop.ToTensor(qkvData, [b, t, 3 * c], requiresGrad: true);
        Tensor[] parts = qkv.split(c, 2);
        Tensor q = parts[0].view(b, t, h, d).transpose(1, 2);
        Tensor k = parts[1].view(b, t, h, d).transpose(1, 2);
        Tensor v = parts[2].view(b, t, h, d).transpose(1, 2);
        Tensor scores = q.matmul(k.transpose(-2, -1)) * TorchConstants.Of(1.0 / Math.Sqrt(d));
        Tensor future = ones(t, t, ScalarType.Bool).triu(1);
        Tensor attT = scores.masked_fill(future, TorchConstants.Of(double.NegativeInfinity)).softmax(-1);
        Tensor y = attT.matmul(v).transpose(1, 2).contiguous().view(b, t, c);
        y.backward([TorchInterop.ToTensor(doutData, [b, t, c])]);

        float[] torchOut = TorchInterop.ToArray(y);
        float[] torchAtt = TorchInterop.ToArray(attT);
        float[] torchD = TorchInterop.ToArray(qkv.grad!);

        // The fused kernel libtorch ships must agree with the composition before it can vouch for ours.
        Tensor sdpa = nn.functional.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(), is_casual: true)
            .transpose(1, 2).contiguous().view(b, t, c);
        Compare.Close(TorchInterop.ToArray(sdpa), torchOut, 1e-5, 0, "libtorch sdpa vs composition");

        foreach (bool reference in new[] { false, true })
        {
            string path = reference ? "reference" : "fast";
            var (o, att) = RunForward(qkvData, b, t, c, h, reference);
            float[] dqkv = RunBackward(doutData, qkvData, att, b, t, c, h, reference);
            output.WriteLine($"{path} B={b} T={t} C={c} H={h}: out {RelErr(o, torchOut):E2}, att {RelErr(att, torchAtt):E2}, dqkv {RelErr(dqkv, torchD):E2} (max|diff|/max|ref|)");
            Compare.Close(o, torchOut, 1e-5, 0, $"{path} out vs libtorch");
            Compare.Close(att, torchAtt, 1e-5, 0, $"{path} att vs libtorch");
            Compare.Close(dqkv, torchD, 1e-5, 0, $"{path} dqkv vs libtorch");
        }
    }

    private static double RelErr(float[] a, float[] r)
    {
        double md = 0, mr = 0;
        for (int i = 0; i < a.Length; i++)
        {
            md = Math.Max(md, Math.Abs((double)a[i] - r[i]));
            mr = Math.Max(mr, Math.Abs((double)r[i]));
        }

        return md / mr;
    }

    [Fact]
    public void Forward_Backward_SteadyState_AllocateNothing()
    {
        // One (b, h) pair: below the threading threshold whatever KernelThreads.Max is.
        int b = 1, t = 37, c = 24, h = 1;
        float[] qkv = Compare.Randn(b * t * 3 * c, 41), dout = Compare.Randn(b * t * c, 42);
        var o = new float[b * t * c];
        var att = new float[b * h * t * t];
        var dqkv = new float[qkv.Length];
        Attention.Forward(qkv, o, att, b, t, c, h);
        Attention.Backward(dout, qkv, att, dqkv, b, t, c, h);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            // Full collections in between: scratch that a pool may release after one would be allocated again.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Attention.Forward(qkv, o, att, b, t, c, h);
            Attention.Backward(dout, qkv, att, dqkv, b, t, c, h);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Forward_HeadsDoNotDivideC_ThrowsNamingBoth()
    {
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward(new float[30], new float[10], new float[3 * 1], 1, 1, 10, 3));
        Assert.Contains("c = 10", ex.Message, StringComparison.Ordinal);
        Assert.Contains("heads = 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_WrongLengths_Throw()
    {
        // B=1, T=2, C=4, H=2: qkv 24, out 8, att 8.
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward(new float[23], new float[8], new float[8], 1, 2, 4, 2));
        Assert.Equal("qkv", ex.ParamName);
        Assert.Contains("23", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Attention.Forward(new float[24], new float[7], new float[8], 1, 2, 4, 2));
        Assert.Equal("output", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Attention.Forward(new float[24], new float[8], new float[7], 1, 2, 4, 2));
        Assert.Equal("att", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Forward(new float[24], new float[8], new float[8], 1, 0, 4, 2));
        ex = Assert.Throws<ArgumentException>(() => Attention.Backward(new float[8], new float[24], new float[9], new float[24], 1, 2, 4, 2));
        Assert.Equal("att", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Attention.Backward(new float[8], new float[24], new float[8], new float[20], 1, 2, 4, 2));
        Assert.Equal("dqkv", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Attention.BackwardReference(new float[9], new float[24], new float[8], new float[24], 1, 2, 4, 2));
        Assert.Equal("dout", ex.ParamName);
    }

    [Fact]
    public void Forward_Backward_OverlappingBuffers_Throw()
    {
        var buffer = new float[64];
        var ex = Assert.Throws<ArgumentException>(() => Attention.Forward(buffer.AsSpan(0, 24), buffer.AsSpan(20, 8), new float[8], 1, 2, 4, 2));
        Assert.Equal("output", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Attention.Forward(buffer.AsSpan(0, 24), new float[8], buffer.AsSpan(16, 8), 1, 2, 4, 2));
        Assert.Equal("att", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Attention.Backward(buffer.AsSpan(40, 8), buffer.AsSpan(0, 24), new float[8], buffer.AsSpan(30, 24), 1, 2, 4, 2));
        Assert.Equal("dqkv", ex.ParamName);
    }

    /// <summary>The tests that set the thread cap, which run alone (<see cref="KernelThreadsSerial"/>).</summary>
    [Collection(KernelThreadsSerial.Name)]
    public sealed class OnSetThreadCounts
    {
        [Fact]
        public void Forward_ManyPairsOnTwoThreads_MatchesReference()
        {
            using var cap = ThreadCap.Set(2);
            // B·H = 8 pairs with T·T·d large enough to pass the threading threshold.
            FastMatchesReference(2, 160, 256, 4, seed: 7);
        }
    }
}
