using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Kernels;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Tests.Support;
using Xunit.Abstractions;

namespace CourseLib.Tests.Reproductions;

/// <summary>Reproductions 1–3 and 8 of the layers issue: facts that hold exactly or at initialization.</summary>
public class InvarianceReproductions(ITestOutputHelper output)
{
    private static float[] Forward(NormLayer norm, float[] x, int rows) => (float[])norm.Forward(x, new ForwardContext(rows)).Clone();

    private static double MaxDiff(float[] a, float[] b) => a.Zip(b, (p, q) => Math.Abs((double)p - q)).Max();

    [Fact]
    public void Repro1_LayerNormIsShiftAndScaleInvariant_RmsNormOnlyScaleInvariant()
    {
        const int n = 8, c = 32;
        float[] x = Compare.Randn(n * c, 1);
        float[] shifted = x.Select(v => v + 3f).ToArray();
        float[] scaled = x.Select(v => v * 5f).ToArray();
        var ln = new LayerNormLayer(c);
        var rms = new RmsNormLayer(c);
        double lnShift = MaxDiff(Forward(ln, x, n), Forward(ln, shifted, n));
        double lnScale = MaxDiff(Forward(ln, x, n), Forward(ln, scaled, n));
        double rmsShift = MaxDiff(Forward(rms, x, n), Forward(rms, shifted, n));
        double rmsScale = MaxDiff(Forward(rms, x, n), Forward(rms, scaled, n));
        output.WriteLine($"max|Δ| LN shift {lnShift:E2}, LN scale {lnScale:E2}, RMS shift {rmsShift:E2}, RMS scale {rmsScale:E2}");
        Assert.True(lnShift < 1e-4, $"LN(x + 3) differs from LN(x) by {lnShift}");
        Assert.True(lnScale < 1e-4, $"LN(5x) differs from LN(x) by {lnScale}");
        Assert.True(rmsScale < 1e-4, $"RMSNorm(5x) differs from RMSNorm(x) by {rmsScale}");
        Assert.True(rmsShift > 0.5, $"RMSNorm(x + 3) should differ from RMSNorm(x), max|Δ| = {rmsShift}");
    }

    [Fact]
    public void Repro1_LayerNormIgnoresBatchCompanions_BatchNormDoesNot()
    {
        const int n = 8, c = 16;
        float[] a = Compare.Randn(n * c, 2);
        float[] b = Compare.Randn(n * c, 3, 4f);
        // Same first sample, different companions.
        a.AsSpan(0, c).CopyTo(b);
        var ln = new LayerNormLayer(c);
        var bn = new BatchNormLayer(c);
        double lnDiff = MaxDiff(Forward(ln, a, n)[..c], Forward(ln, b, n)[..c]);
        double bnDiff = MaxDiff(Forward(bn, a, n)[..c], Forward(bn, b, n)[..c]);
        output.WriteLine($"sample 0 output change when companions change: LN {lnDiff:E2}, BN (training) {bnDiff:E2}");
        Assert.Equal(0.0, lnDiff);
        Assert.True(bnDiff > 0.1, $"BatchNorm's output should depend on the batch, max|Δ| = {bnDiff}");
    }

    [Fact]
    public void Repro2_ActivationExtremaAndGeluApproximationError()
    {
        const int count = 200_001;
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = -10f + 20f * i / (count - 1);
        }

        var gelu = new float[count];
        var geluTanh = new float[count];
        var silu = new float[count];
        Gelu.Forward(x, gelu, GeluApproximation.None);
        Gelu.Forward(x, geluTanh, GeluApproximation.Tanh);
        Silu.Forward(x, silu);
        int gi = Array.IndexOf(gelu, gelu.Min()), si = Array.IndexOf(silu, silu.Min());
        double approx = gelu.Zip(geluTanh, (p, q) => Math.Abs((double)p - q)).Max();
        output.WriteLine($"GELU min {gelu[gi]:F4} at {x[gi]:F4}; SiLU min {silu[si]:F4} at {x[si]:F4}; max|GELU − tanh approx| {approx:E2}");
        Assert.Equal(-0.170, gelu[gi], 3);
        Assert.Equal(-0.752, x[gi], 2);
        Assert.Equal(-0.278, silu[si], 3);
        Assert.Equal(-1.278, x[si], 2);
        Assert.InRange(approx, 4.5e-4, 4.9e-4);
    }

    [Fact]
    public void Repro3_FfnHoldsTwoThirdsOfBlockWeights_SwiGluAt8COver3MatchesAnd4CFfn()
    {
        foreach (int c in new[] { 48, 96, 192 })
        {
            var block = new TransformerBlock(new BlockConfig { Channels = c, Heads = 4 }, new Rng(1));
            long Weights(Module m) => m.Parameters().Where(p => p.Shape.Count == 2).Sum(p => (long)p.Count);
            Assert.Equal(8L * c * c, Weights(block.Ffn));
            Assert.Equal(12L * c * c, Weights(block));
            long plain = new FeedForward(c, Activation.Gelu, new Rng(1), bias: false).ParameterCount;
            var swiglu = new FeedForward(c, Activation.SwiGlu, new Rng(1), bias: false);
            Assert.Equal(8 * c / 3, swiglu.Hidden);
            Assert.Equal(plain, swiglu.ParameterCount);
        }
    }

    [Fact]
    public void Repro3_SwitchLoadBalancingLoss_EqualsAlphaUnderUniformRouting()
    {
        const double alpha = 0.01;
        var uniform = Enumerable.Repeat(0.25f, 4).ToArray();
        Assert.Equal(alpha, MoeFeedForward.LoadBalancingLoss(uniform, uniform, alpha), 9);
        // A zero router gives every token probability 1/E for each expert: the loss is α whatever the assignment.
        var moe = new MoeFeedForward(16, experts: 4, topK: 1, Activation.Relu, new Rng(2), auxLossWeight: alpha);
        Array.Clear(moe.Router.Weight.Data);
        moe.Forward(Compare.Randn(32 * 16, 3), new ForwardContext(32));
        Assert.Equal(alpha, moe.AuxLoss, 6);
        // All tokens tie and go to expert 0, whose capacity ⌈1.25·32/4⌉ = 10 drops the other 22.
        Assert.Equal(22, moe.DroppedTokens);
        // Collapsed routing (all probability and all tokens on one expert) costs E·α.
        var onehot = new float[] { 1, 0, 0, 0 };
        Assert.Equal(4 * alpha, MoeFeedForward.LoadBalancingLoss(onehot, onehot, alpha), 9);
    }

    [Fact]
    public void Repro8_ReZeroModel_IsExactlyTheIdentityAtInitialization()
    {
        var model = new TinyLm(new LmConfig { Vocab = 14, Context = 16, Channels = 32, Heads = 4, Layers = 6, Placement = NormPlacement.ReZero, Seed = 3 });
        Batch batch = new SequenceTask(SequenceTaskKind.Copy, 8, 14, seed: 1).Next(4);
        model.Forward(batch);
        float[] embedded = (float[])model.Embed.Forward(batch.Tokens!, new ForwardContext(4, 16)).Clone();
        model.Forward(batch);
        Assert.Equal(embedded, model.Blocks[^1].LastOutput);
    }

    [Fact]
    public void Repro8_BatchNormHasTrainEvalGap_LayerNormHasNone()
    {
        double Gap(NormKind norm)
        {
            var model = new DeepMlp(new MlpConfig { Width = 32, Depth = 4, Norm = norm, Seed = 4 });
            var rng = new Rng(5);
            var opt = new CourseLib.Training.Adam(model, 1e-2);
            var trainer = new CourseLib.Training.Trainer(model, opt, options: new CourseLib.Training.TrainerOptions { RecordParameterStatistics = false });
            trainer.Run(_ => SyntheticTasks.TwoSpirals(16, rng), 50);
            Batch test = SyntheticTasks.TwoSpirals(16, new Rng(99));
            double train = model.Forward(test, training: true);
            double eval = model.Forward(test, training: false);
            output.WriteLine($"{norm}: loss in training mode {train:F4}, evaluation mode {eval:F4}");
            return Math.Abs(train - eval);
        }

        Assert.Equal(0.0, Gap(NormKind.LayerNorm));
        Assert.True(Gap(NormKind.BatchNorm) > 1e-2);
    }
}
