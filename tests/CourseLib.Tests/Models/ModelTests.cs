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
    public void DeepMlp_ReZeroWithNonZeroGates_GradientsMatchFiniteDifferences()
    {
        var model = new DeepMlp(new MlpConfig { Width = 6, Depth = 5, Residual = true, ReZero = true, Norm = null, Activation = Activation.Gelu, Seed = 2 });
        float[] gates = [0.7f, -0.4f, 1.3f];
        var named = model.NamedParameters().Where(np => np.Name.EndsWith(".rezero", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["layers.1.rezero", "layers.2.rezero", "layers.3.rezero"], named.Select(np => np.Name));
        for (int i = 0; i < named.Length; i++)
        {
            named[i].Parameter.Data[0] = gates[i];
        }

        GradCheck.Model(model, SyntheticTasks.TwoSpirals(12, new Rng(3)));
    }

    [Fact]
    public void DeepMlp_ReZeroAtInitialization_HiddenResidualLayersAreExactlyTheIdentity()
    {
        var model = new DeepMlp(new MlpConfig { Width = 8, Depth = 6, Residual = true, ReZero = true, Seed = 4 });
        Batch batch = SyntheticTasks.TwoSpirals(16, new Rng(5));
        model.ZeroGrad();
        float loss = model.Forward(batch, training: false);
        float[] before = (float[])model.Output.Clone();
        model.Backward();
        foreach (var (name, p) in model.NamedParameters().Where(np => np.Name.StartsWith("layers.", StringComparison.Ordinal) && !np.Name.StartsWith("layers.0.", StringComparison.Ordinal)))
        {
            if (name.EndsWith(".rezero", StringComparison.Ordinal))
            {
                Assert.NotEqual(0f, p.Grad[0]);
            }
            else
            {
                Assert.All(p.Grad, g => Assert.Equal(0f, g));
                // Whatever the branch computes is multiplied by α = 0.
                for (int i = 0; i < p.Data.Length; i++)
                {
                    p.Data[i] = 10f * p.Data[i] + 1f;
                }
            }
        }

        Assert.Equal(loss, model.Forward(batch, training: false));
        Assert.Equal(before, model.Output);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void DeepMlp_ReZeroWithoutResidualOrWithActivationAfterAdd_Throws(bool residual, bool activationAfterAdd)
    {
        var e = Assert.Throws<ArgumentException>(() => new DeepMlp(new MlpConfig { Residual = residual, ActivationAfterAdd = activationAfterAdd, ReZero = true }));
        Assert.Equal("config", e.ParamName);
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
