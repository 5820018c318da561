using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Tests.Layers;

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
    [InlineData(false, NormKind.BatchNorm)]
    [InlineData(true, NormKind.LayerNorm)]
    public void DeepMlp_Gradients_MatchFiniteDifferences(bool residual, NormKind norm)
    {
        var model = new DeepMlp(new MlpConfig { Width = 6, Depth = 4, Residual = residual, ShortcutScale = 0.8, Norm = norm, Activation = Activation.Gelu, Seed = 2 });
        GradCheck.Model(model, SyntheticTasks.TwoSpirals(12, new Rng(3)));
    }

    [Fact]
    public void TinyLm_ParameterCount_MatchesFormula()
    {
        var cfg = new LmConfig { Vocab = 65, Context = 64, Channels = 64, Layers = 4 };
        long c = 64;
        long expected = (65 + 64) * c + 4 * (12 * c * c + 13 * c) + 2 * c + 65 * c;
        Assert.Equal(expected, new TinyLm(cfg).ParameterCount);
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
}
