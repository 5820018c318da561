using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances: both paths sum over the batch in double, so fast vs reference agree to a few float roundings
// (1e-5 relative + 1e-6 absolute). Finite differences through the float kernel: 2e-3 relative + 2e-4 absolute.
// libtorch: 1e-5 relative for outputs, running statistics and gradients.
public class BatchNormTests
{
    private sealed class Case
    {
        public Case(int n, int c, int seed)
        {
            N = n;
            C = c;
            X = Randn(n * c, seed, 2f, 1.5f);
            Gamma = Randn(c, seed + 1, 0.5f, 1f);
            Beta = Randn(c, seed + 2, 0.5f);
            RunningMean = Randn(c, seed + 3, 0.2f);
            RunningVar = Randn(c, seed + 4, 0.2f, 1f).Select(Math.Abs).ToArray();
            Y = new float[n * c];
            Mean = new float[c];
            Rstd = new float[c];
        }

        public int N { get; }
        public int C { get; }
        public float[] X { get; }
        public float[] Gamma { get; }
        public float[] Beta { get; }
        public float[] RunningMean { get; }
        public float[] RunningVar { get; }
        public float[] Y { get; }
        public float[] Mean { get; }
        public float[] Rstd { get; }

        public Case Clone()
        {
            var k = new Case(N, C, 0);
            X.CopyTo(k.X, 0);
            Gamma.CopyTo(k.Gamma, 0);
            Beta.CopyTo(k.Beta, 0);
            RunningMean.CopyTo(k.RunningMean, 0);
            RunningVar.CopyTo(k.RunningVar, 0);
            return k;
        }

        public void Forward(bool training, bool reference = false)
        {
            if (reference)
            {
                BatchNorm.ForwardReference(X, Gamma, Beta, Y, Mean, Rstd, RunningMean, RunningVar, N, C, training);
            }
            else
            {
                BatchNorm.Forward(X, Gamma, Beta, Y, Mean, Rstd, RunningMean, RunningVar, N, C, training);
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ForwardBackward_EveryCAndOddRows_MatchReference(bool training)
    {
        for (int c = 1; c <= 256; c++)
        {
            // Training needs N ≥ 2 (the unbiased running variance); inference also runs a single row.
            foreach (int n in training ? new[] { 2, 3, 7 } : OddRows)
            {
                var fast = new Case(n, c, c * 10 + n);
                var slow = fast.Clone();
                fast.Forward(training);
                slow.Forward(training, reference: true);
                string at = $"n={n} c={c} training={training}";
                Compare.Close(fast.Y, slow.Y, 1e-5, 1e-6, "y " + at);
                Compare.Close(fast.Mean, slow.Mean, 1e-6, 1e-6, "mean " + at);
                Compare.Close(fast.Rstd, slow.Rstd, 1e-5, 0, "rstd " + at);
                Compare.Close(fast.RunningMean, slow.RunningMean, 1e-6, 1e-7, "runningMean " + at);
                Compare.Close(fast.RunningVar, slow.RunningVar, 1e-6, 1e-7, "runningVar " + at);

                float[] dy = Randn(n * c, c + 4000 + n);
                float[] dx = Randn(n * c, 1), dg = Randn(c, 2), db = Randn(c, 3);
                float[] dx0 = (float[])dx.Clone(), dg0 = (float[])dg.Clone(), db0 = (float[])db.Clone();
                BatchNorm.Backward(dy, slow.X, slow.Gamma, slow.Mean, slow.Rstd, dx, dg, db, n, c, training);
                BatchNorm.BackwardReference(dy, slow.X, slow.Gamma, slow.Mean, slow.Rstd, dx0, dg0, db0, n, c, training);
                Compare.Close(dx, dx0, 1e-5, 1e-6, "dx " + at);
                Compare.Close(dg, dg0, 1e-5, 1e-6, "dgamma " + at);
                Compare.Close(db, db0, 1e-5, 1e-6, "dbeta " + at);
            }
        }
    }

    [Fact]
    public void ForwardBackward_LargeThreadedShape_MatchReference()
    {
        const int n = 512, c = 300; // 300 channels: several 16-wide blocks per thread plus a ragged end
        var fast = new Case(n, c, 9);
        var slow = fast.Clone();
        fast.Forward(training: true);
        slow.Forward(training: true, reference: true);
        Compare.Close(fast.Y, slow.Y, 1e-5, 1e-6, "y");
        Compare.Close(fast.RunningVar, slow.RunningVar, 1e-6, 1e-7, "runningVar");
        float[] dy = Randn(n * c, 10), dx = new float[n * c], dg = new float[c], db = new float[c];
        float[] dx0 = new float[n * c], dg0 = new float[c], db0 = new float[c];
        BatchNorm.Backward(dy, slow.X, slow.Gamma, slow.Mean, slow.Rstd, dx, dg, db, n, c);
        BatchNorm.BackwardReference(dy, slow.X, slow.Gamma, slow.Mean, slow.Rstd, dx0, dg0, db0, n, c);
        Compare.Close(dx, dx0, 1e-5, 1e-6, "dx");
        Compare.Close(dg, dg0, 1e-5, 1e-5, "dgamma");
        Compare.Close(db, db0, 1e-5, 1e-5, "dbeta");
    }

    [Theory]
    [InlineData(true, 5, 3)]
    [InlineData(true, 4, 21)]
    [InlineData(false, 5, 3)]
    public void Backward_AllGradients_MatchFiniteDifferences(bool training, int n, int c)
    {
        var k = new Case(n, c, 19);
        float[] w = Randn(n * c, 20);
        float[] rm = (float[])k.RunningMean.Clone(), rv = (float[])k.RunningVar.Clone();
        double Loss()
        {
            // Restore the running statistics so every evaluation sees the same state.
            rm.CopyTo(k.RunningMean, 0);
            rv.CopyTo(k.RunningVar, 0);
            k.Forward(training);
            return Dot(k.Y, w);
        }

        Loss();
        float[] dx = new float[n * c], dg = new float[c], db = new float[c];
        BatchNorm.Backward(w, k.X, k.Gamma, k.Mean, k.Rstd, dx, dg, db, n, c, training);
        Compare.Close(dx, GradientChecker.Numerical(k.X, Loss), 2e-3, 2e-4, $"dx vs finite differences (training={training})");
        Compare.Close(dg, GradientChecker.Numerical(k.Gamma, Loss), 2e-3, 2e-4, "dgamma vs finite differences");
        Compare.Close(db, GradientChecker.Numerical(k.Beta, Loss), 2e-3, 2e-4, "dbeta vs finite differences");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ForwardBackward_RunningStatistics_MatchTorch(bool training)
    {
        const int n = 64, c = 96;
        const float momentum = 0.2f;
        var k = new Case(n, c, 29);
        float[] w = Randn(n * c, 30);
        float[] rm0 = (float[])k.RunningMean.Clone(), rv0 = (float[])k.RunningVar.Clone();
        BatchNorm.Forward(k.X, k.Gamma, k.Beta, k.Y, k.Mean, k.Rstd, k.RunningMean, k.RunningVar, n, c, training, momentum);
        float[] dx = new float[n * c], dg = new float[c], db = new float[c];
        BatchNorm.Backward(w, k.X, k.Gamma, k.Mean, k.Rstd, dx, dg, db, n, c, training);

        using var scope = Scope();
        var tx = T(k.X, new long[] { n, c }, grad: true);
        var tg = T(k.Gamma, new long[] { c }, grad: true);
        var tb = T(k.Beta, new long[] { c }, grad: true);
        var trm = T(rm0, new long[] { c });
        var trv = T(rv0, new long[] { c });
        var ty = torch.nn.functional.batch_norm(tx, trm, trv, tg, tb, training, momentum, 1e-5);
        (ty * T(w, new long[] { n, c })).sum().backward();
        Compare.Close(k.Y, Torch.TorchInterop.ToArray(ty), 1e-5, 0, "y vs torch");
        Compare.Close(k.RunningMean, Torch.TorchInterop.ToArray(trm), 1e-5, 0, "runningMean vs torch");
        Compare.Close(k.RunningVar, Torch.TorchInterop.ToArray(trv), 1e-5, 0, "runningVar vs torch");
        Compare.Close(dx, Grad(tx), 1e-5, 1e-6, "dx vs torch");
        Compare.Close(dg, Grad(tg), 1e-5, 1e-6, "dgamma vs torch");
        Compare.Close(db, Grad(tb), 1e-5, 1e-6, "dbeta vs torch");
    }

    [Fact]
    public void Forward_Training_OtherRowChangesThisRow()
    {
        // The contrast with LayerNorm (Forward_OtherRowChanged_RowUnchanged there): batch statistics couple rows.
        var k = new Case(4, 8, 39);
        k.Forward(training: true);
        float[] before = k.Y.AsSpan(0, 8).ToArray();
        for (int i = 8; i < 32; i++)
        {
            k.X[i] = k.X[i] * 3f + 5f;
        }

        k.Forward(training: true);
        double maxDiff = before.Zip(k.Y.AsSpan(0, 8).ToArray(), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff > 0.1, $"row 0 should change when rows 1..3 change, max|diff| = {maxDiff}");
    }

    [Fact]
    public void Forward_TrainVersusEval_OutputsDiffer()
    {
        // Fresh running statistics (mean 0, var 1) against data with mean ≈ 1.5 and std ≈ 2: the gap is large.
        var k = new Case(32, 16, 49);
        Array.Fill(k.RunningMean, 0f);
        Array.Fill(k.RunningVar, 1f);
        k.Forward(training: false);
        float[] eval = (float[])k.Y.Clone();
        k.Forward(training: true);
        double maxDiff = eval.Zip(k.Y, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff > 1, $"train and eval outputs should differ, max|diff| = {maxDiff}");
        // One training step moved the running mean a tenth of the way to the batch mean.
        Assert.Equal(0.1 * k.Mean[0], k.RunningMean[0], 5);
    }

    [Fact]
    public void ForwardBackward_BadArguments_ThrowNamingTheArgument()
    {
        var k = new Case(3, 4, 59);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() =>
            BatchNorm.Forward(k.X.AsSpan(0, 4), k.Gamma, k.Beta, k.Y, k.Mean, k.Rstd, k.RunningMean, k.RunningVar, 1, 4, training: true)).ParamName);
        // One row is fine in inference mode.
        BatchNorm.Forward(k.X.AsSpan(0, 4), k.Gamma, k.Beta, k.Y, k.Mean, k.Rstd, k.RunningMean, k.RunningVar, 1, 4, training: false);
        Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() =>
            BatchNorm.Forward(k.X, k.Gamma, k.Beta, k.Y, k.Mean, k.Rstd, k.RunningMean, new float[3], 3, 4, true)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() =>
            BatchNorm.Forward(k.X, k.Gamma, k.Beta, k.Y, k.Mean, k.Rstd, k.RunningMean, k.RunningVar, 3, 4, true, momentum: 1.5f)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() =>
            BatchNorm.Forward(k.X, k.Gamma, k.Beta, k.X, k.Mean, k.Rstd, k.RunningMean, k.RunningVar, 3, 4, true)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() =>
            BatchNorm.Forward(k.X, k.Gamma, k.Beta, k.Y, k.RunningMean, k.Rstd, k.RunningMean, k.RunningVar, 3, 4, true)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() =>
            BatchNorm.Backward(k.Y, k.X, k.Gamma, new float[3], k.Rstd, new float[12], new float[4], new float[4], 3, 4)).ParamName);
        Assert.Equal("dgamma", Assert.Throws<ArgumentException>(() =>
            BatchNorm.Backward(k.Y, k.X, k.Gamma, k.Mean, k.Rstd, new float[12], k.Gamma, new float[4], 3, 4)).ParamName);
    }
}
