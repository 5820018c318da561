using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Tests.Layers;
using CourseLib.Training;

namespace CourseLib.Tests.Models;

public class ModelTests
{
    [Theory]
    [InlineData(NormPlacement.PreLn, NormKind.LayerNorm)]
    [InlineData(NormPlacement.PostLn, NormKind.RmsNorm)]
    public void TinyLm_Gradients_MatchFiniteDifferences(NormPlacement placement, NormKind norm)
    {
        var model = new TinyLm(new LmConfig { Vocab = 7, Context = 6, Channels = 8, Heads = 2, Layers = 2, Hidden = 12, Placement = placement, Norm = norm, Seed = 1 });
        Batch batch = new SequenceTask(SequenceTaskKind.Copy, 3, 7, seed: 2).Next(2);
        GradCheck.Model(model, batch);
    }

    [Fact]
    public void TinyLm_WithMoe_GradientsMatchFiniteDifferencesAndReportsAuxLoss()
    {
        var model = new TinyLm(new LmConfig { Vocab = 7, Context = 6, Channels = 8, Heads = 2, Layers = 1, Hidden = 8, Experts = 2, CapacityFactor = 4, AuxLossWeight = 0.3, Seed = 3 });
        Batch batch = new SequenceTask(SequenceTaskKind.Copy, 3, 7, seed: 2).Next(2);
        float loss = model.Forward(batch);
        Assert.True(loss > model.LastCrossEntropy);
        GradCheck.Model(model, batch);
    }

    [Theory]
    [InlineData(false, NormKind.BatchNorm, false)]
    [InlineData(true, NormKind.LayerNorm, false)]
    [InlineData(true, NormKind.BatchNorm, true)]
    public void DeepMlp_Gradients_MatchFiniteDifferences(bool residual, NormKind norm, bool activationAfterAdd)
    {
        var model = new DeepMlp(new MlpConfig { Width = 6, Depth = 4, Residual = residual, ShortcutScale = 0.8, Norm = norm, Activation = Activation.Gelu, ActivationAfterAdd = activationAfterAdd, Seed = 2 });
        GradCheck.Model(model, SyntheticTasks.TwoSpirals(12, new Rng(3)));
    }

    [Fact]
    public void TinyLm_ParameterCount_MatchesFormula()
    {
        var cfg = new LmConfig { Vocab = 65, Context = 64, Channels = 64, Layers = 4 };
        long c = 64;
        long expected = (65 + 64) * c + 4 * (12 * c * c + 13 * c) + 2 * c + 65 * c;
        var model = new TinyLm(cfg);
        Assert.Equal(expected, model.ParameterCount);

        // Per block 24·N·C² (qkv 6, proj 2, FFN 16) + 4·B·T²·C (scores and weighted sum), plus the head 2·N·C·V.
        var ctx = new ForwardContext(8, 64);
        long n = ctx.Rows;
        Assert.Equal(4 * (24 * n * c * c + 4L * 8 * 64 * 64 * c) + 2 * n * c * 65, model.ForwardFlops(ctx));
    }

    [Fact]
    public void TinyLm_Generate_ProducesValidTokensDeterministically()
    {
        var model = new TinyLm(new LmConfig { Vocab = 9, Context = 5, Channels = 8, Heads = 2, Layers = 1, Seed = 5 });
        int[] a = model.Generate([1, 2], 8, new Rng(1));
        int[] b = model.Generate([1, 2], 8, new Rng(1));
        Assert.Equal(a, b);
        Assert.All(a, t => Assert.InRange(t, 0, 8));
    }

    [Theory]
    [InlineData(NormPlacement.PreLn)]
    [InlineData(NormPlacement.PostLn)]
    [InlineData(NormPlacement.DeepNorm)]
    public void TinyLm_TrainingStep_SteadyStateAllocatesNothing(NormPlacement placement)
    {
        // Small enough that every kernel stays on this thread (no hand-off to the worker threads).
        var model = new TinyLm(new LmConfig { Vocab = 11, Context = 8, Channels = 16, Heads = 2, Layers = 2, Placement = placement, Seed = 4 });
        Batch batch = new SequenceTask(SequenceTaskKind.Copy, 4, 11, seed: 5).Next(2);
        AssertStepAllocatesNothing(model, batch);
    }

    [Fact]
    public void DeepMlp_TrainingStep_SteadyStateAllocatesNothing()
    {
        var model = new DeepMlp(new MlpConfig { Width = 16, Depth = 6, Residual = true, Norm = NormKind.BatchNorm, Seed = 6 });
        AssertStepAllocatesNothing(model, SyntheticTasks.TwoSpirals(32, new Rng(7)));
    }

    private static void AssertStepAllocatesNothing(Model model, Batch batch)
    {
        var adam = new Adam(model, 1e-3, 0.9, 0.98);
        void Step()
        {
            model.ZeroGrad();
            model.Forward(batch);
            model.Backward();
            adam.Step();
        }

        Step(); // the first step sizes the activation buffers and the optimizer state
        Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
