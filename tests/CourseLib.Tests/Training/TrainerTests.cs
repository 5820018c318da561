using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Training;

namespace CourseLib.Tests.Training;

public class TrainerTests
{
    internal static LmConfig SmallLm(int seed = 1) => new()
    {
        Vocab = 10, Context = 8, Channels = 16, Heads = 2, Layers = 2, Seed = seed,
    };

    private static TrainingHistory TrainCopy(int seed, int steps = 15, NormPlacement placement = NormPlacement.PreLn)
    {
        var model = new TinyLm(SmallLm(seed) with { Placement = placement });
        var task = new SequenceTask(SequenceTaskKind.Copy, 4, 10, seed: 100);
        var trainer = new Trainer(model, new Adam(model, 3e-3), new LinearWarmupSchedule(3e-3, 5));
        return trainer.Run(_ => task.Next(8), steps);
    }

    [Fact]
    public void Trainer_SameSeed_BitIdenticalCurves()
    {
        TrainingHistory a = TrainCopy(seed: 4), b = TrainCopy(seed: 4), c = TrainCopy(seed: 5);
        Assert.Equal(a.Losses, b.Losses);
        Assert.Equal(a.GradNorms, b.GradNorms);
        Assert.Equal(a.Steps[^1].LayerGradNorms, b.Steps[^1].LayerGradNorms);
        Assert.NotEqual(a.Losses, c.Losses);
    }

    [Fact]
    public void Trainer_Step_RecordsEveryMeasurement()
    {
        var model = new TinyLm(SmallLm() with { Activation = Activation.Relu });
        var task = new SequenceTask(SequenceTaskKind.Copy, 4, 10, seed: 1);
        var trainer = new Trainer(model, new Adam(model, 1e-3), new LinearWarmupSchedule(1e-3, 10));
        StepRecord r = trainer.Step(task.Next(8))!;
        Assert.Equal(0, r.Step);
        Assert.Equal(1e-4, r.LearningRate, 12);
        Assert.InRange(r.Loss, 1.5, 3.5);
        Assert.Equal(["embed", "blocks.0", "blocks.1", "norm", "head"], r.LayerGradNorms.Keys.ToArray());
        double fromLayers = Math.Sqrt(r.LayerGradNorms.Values.Sum(v => v * v));
        Assert.Equal(r.GradNorm, fromLayers, 6);
        Assert.Equal(model.Parameters().Count, r.ParameterGradNorms.Count);
        Assert.Equal(2, r.ResidualRms.Count);
        Assert.NotNull(r.DeadReluFraction);
        Assert.InRange(r.DeadReluFraction!.Value, 0, 1);
        Assert.True(r.Diagnostics.ContainsKey("blocks.1.residual_rms"));
        // Adam's first step moves each weight by about lr, so ‖Δθ‖/‖θ‖ is small but positive.
        double ratio = r.UpdateToWeight["blocks.0.attn.qkv.weight"];
        Assert.InRange(ratio, 1e-5, 1e-2);
    }

    [Fact]
    public void Trainer_NaNInAWeight_StopsNamingStepAndFirstLayer()
    {
        var model = new TinyLm(SmallLm());
        var task = new SequenceTask(SequenceTaskKind.Copy, 4, 10, seed: 1);
        var trainer = new Trainer(model, new Adam(model, 1e-3));
        trainer.Run(_ => task.Next(4), 3);
        model.Blocks[1].Ffn.Parameters()[0].Data[0] = float.NaN;
        TrainingHistory h = trainer.Run(_ => task.Next(4), 5);
        Assert.Equal(3, h.Steps.Count);
        Assert.NotNull(h.Divergence);
        Assert.Contains("step 3", h.Divergence, StringComparison.Ordinal);
        Assert.Contains("blocks.1.ffn.up.weight", h.Divergence, StringComparison.Ordinal);
        Assert.Contains("Hint", h.Divergence, StringComparison.Ordinal);
    }

    [Fact]
    public void Trainer_NaNInput_NamesTheFirstLayerWhoseOutputIsNonFinite()
    {
        var model = new TinyLm(SmallLm());
        var task = new SequenceTask(SequenceTaskKind.Copy, 4, 10, seed: 1);
        var trainer = new Trainer(model, new Sgd(model, 0.1), options: new TrainerOptions { ThrowOnDivergence = true });
        // Finite but huge weights overflow in the product: the first non-finite output is the qkv projection of block 1.
        Array.Fill(model.Blocks[1].Attention.Qkv.Weight.Data, 3e38f);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Step(task.Next(4)));
        Assert.Equal(0, e.Step);
        Assert.Equal("output of layer 'blocks.1.attn.qkv' (LinearLayer)", e.Location);
        Assert.Contains("warm-up", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trainer_HugeLearningRate_DivergesWithMessage()
    {
        var model = new DeepMlp(new MlpConfig { Classes = 0, Inputs = 1, Outputs = 1, Width = 16, Depth = 4, Norm = null, Seed = 1 });
        var rng = new Rng(3);
        var trainer = new Trainer(model, new Sgd(model, 1e3));
        TrainingHistory h = trainer.Run(_ => SyntheticTasks.NoisySine(32, rng), 200);
        Assert.NotNull(h.Divergence);
        Assert.StartsWith("Training diverged at step", h.Divergence, StringComparison.Ordinal);
        Assert.True(h.Steps.Count < 200);
    }

    [Fact]
    public void Trainer_NoisySine_LearnsBelowNoiseFreeBaseline()
    {
        var model = new DeepMlp(new MlpConfig { Classes = 0, Inputs = 1, Outputs = 1, Width = 32, Depth = 3, Norm = null, Activation = Activation.Gelu, Seed = 2 });
        var rng = new Rng(4);
        var trainer = new Trainer(model, new Adam(model, 1e-2));
        TrainingHistory h = trainer.Run(_ => SyntheticTasks.NoisySine(64, rng), 400);
        Assert.Null(h.Divergence);
        // Var(sin x) = 0.5 is what predicting 0 costs; noise variance 0.01 is the floor.
        Assert.True(h.FinalLoss(50) < 0.05, $"final loss {h.FinalLoss(50)}");
    }
}
