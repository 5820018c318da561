using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Tests.Support;
using CourseLib.Torch;
using CourseLib.Torch.Models;
using CourseLib.Tests.Reproductions;
using CourseLib.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CourseLib.Tests.Models;

/// <summary>
/// libtorch's OpenMP workers spin while waiting; on a shared 2-core machine that turns a millisecond step on these
/// tiny tensors into hundreds. The curve tests run libtorch on one thread and restore the setting afterwards.
/// </summary>
internal sealed class OneTorchThread : IDisposable
{
    private readonly int _saved;

    private OneTorchThread()
    {
        TorchRuntime.Initialize();
        _saved = torch.get_num_threads();
        torch.set_num_threads(1);
    }

    public static OneTorchThread Scope() => new();

    public void Dispose() => torch.set_num_threads(_saved);
}

/// <summary>Our models against their libtorch twins: same weights in, same outputs, losses, gradients and curves out.</summary>
[Collection(SerialTrainingRuns.Name)]
public class TwinTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(NormPlacement.PostLn, NormKind.LayerNorm, Activation.Relu)]
    [InlineData(NormPlacement.PreLn, NormKind.LayerNorm, Activation.Gelu)]
    [InlineData(NormPlacement.PeriLn, NormKind.RmsNorm, Activation.SwiGlu)]
    [InlineData(NormPlacement.DeepNorm, NormKind.LayerNorm, Activation.GeluTanh)]
    [InlineData(NormPlacement.ReZero, NormKind.LayerNorm, Activation.Silu)]
    [InlineData(NormPlacement.None, NormKind.Dyt, Activation.GeGlu)]
    [InlineData(NormPlacement.PreLn, NormKind.LayerNorm, Activation.Glu)]
    public void TorchBlock_SameWeights_SameOutput(NormPlacement placement, NormKind norm, Activation activation)
    {
        var block = new TransformerBlock(new BlockConfig { Channels = 32, Heads = 4, Placement = placement, Norm = norm, Activation = activation, DeepNormAlpha = 1.7, DeepNormBeta = 0.6 }, new Rng(1));
        foreach (var p in block.Parameters().Where(p => p.Name.StartsWith("rezero", StringComparison.Ordinal)))
        {
            p.Data[0] = 0.3f;
        }

        float[] x = Compare.Randn(3 * 10 * 32, 2);
        float[] ours = block.Forward(x, new ForwardContext(3, 10));
        using var twin = new TorchBlock(block);
        using Tensor tx = TorchInterop.ToTensor(x, [3, 10, 32]);
        using Tensor ty = twin.Forward(tx);
        Compare.Close(ours, TorchInterop.ToArray(ty), 1e-4, 1e-5, $"{placement} block vs libtorch");
    }

    [Theory]
    [InlineData(NormPlacement.PreLn)]
    [InlineData(NormPlacement.PostLn)]
    public void TorchLm_SameWeights_SameLossAndGradients(NormPlacement placement)
    {
        var model = new TinyLm(new LmConfig { Vocab = 14, Context = 16, Channels = 32, Heads = 4, Layers = 3, Placement = placement, Seed = 3 });
        Batch batch = new SequenceTask(SequenceTaskKind.Reverse, 8, 14, seed: 4).Next(6);
        model.ZeroGrad();
        float loss = model.Forward(batch);
        model.Backward();
        using var twin = new TorchLm(model);
        using Tensor tloss = twin.Loss(batch);
        tloss.backward();
        output.WriteLine($"loss ours {loss:F6}, libtorch {tloss.item<float>():F6}");
        Assert.Equal(tloss.item<float>(), loss, 4);
        foreach (var (name, p) in model.NamedParameters())
        {
            Compare.Close(p.Grad, twin.Gradient(name), 2e-3, 1e-6, name);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TorchMlp_BatchNorm_SameLossAndGradients(bool activationAfterAdd)
    {
        var model = new DeepMlp(new MlpConfig { Width = 16, Depth = 5, Residual = true, ShortcutScale = 0.7, ActivationAfterAdd = activationAfterAdd, Seed = 2 });
        AssertTwinAgrees(model, SyntheticTasks.TwoSpirals(64, new Rng(5)));
    }

    private static void AssertTwinAgrees(DeepMlp model, Batch batch)
    {
        model.ZeroGrad();
        float loss = model.Forward(batch);
        model.Backward();
        using var twin = new TorchMlp(model);
        using Tensor tloss = twin.Loss(batch);
        tloss.backward();
        Assert.Equal(tloss.item<float>(), loss, 4);
        foreach (var (name, p) in model.NamedParameters())
        {
            Compare.Close(p.Grad, twin.Gradient(name), 2e-3, 1e-6, name);
        }
    }

    [Fact]
    public void TorchMlp_ReZero_SameLossAndGradients()
    {
        var model = new DeepMlp(new MlpConfig { Width = 16, Depth = 5, Residual = true, ReZero = true, Seed = 3 });
        float gate = 0.3f;
        foreach (var (_, p) in model.NamedParameters().Where(np => np.Name.EndsWith(".rezero", StringComparison.Ordinal)))
        {
            p.Data[0] = gate;
            gate -= 0.5f;
        }

        AssertTwinAgrees(model, SyntheticTasks.TwoSpirals(64, new Rng(6)));
    }

    [Fact]
    public void TorchTwin_CopyToAndFrom_RoundTripsWeights()
    {
        var a = new TinyLm(new LmConfig { Vocab = 10, Context = 8, Channels = 16, Heads = 2, Layers = 2, Seed = 1 });
        var b = new TinyLm(new LmConfig { Vocab = 10, Context = 8, Channels = 16, Heads = 2, Layers = 2, Seed = 2 });
        using var twin = new TorchLm(a);
        twin.CopyTo(b);
        Assert.Equal(a.Parameters().SelectMany(p => p.Data), b.Parameters().SelectMany(p => p.Data));
        b.Head.Weight.Data[3] = 9f;
        twin.CopyFrom(b);
        Assert.Equal(9f, TorchInterop.ToArray(twin["head.weight"])[3]);
    }

    [Fact]
    public void TorchLm_AdamTraining_CurvesTrackFor60Steps()
    {
        using var threads = OneTorchThread.Scope();
        var model = new TinyLm(new LmConfig { Vocab = 14, Context = 16, Channels = 32, Heads = 4, Layers = 2, Placement = NormPlacement.PreLn, Seed = 7 });
        using var twin = new TorchLm(model);
        var task = new SequenceTask(SequenceTaskKind.Copy, 8, 14, seed: 8);
        Batch[] batches = Enumerable.Range(0, 60).Select(_ => task.Next(16)).ToArray();

        var trainer = new Trainer(model, new Adam(model, 3e-3, 0.9, 0.98), options: new TrainerOptions { RecordParameterStatistics = false });
        var sw = System.Diagnostics.Stopwatch.StartNew();
        double[] ours = trainer.Run(i => batches[i], 60).Losses;
        TimeSpan oursTime = sw.Elapsed;
        sw.Restart();

        using var opt = torch.optim.Adam(twin.Parameters(), lr: 3e-3, beta1: 0.9, beta2: 0.98);
        var theirs = new double[60];
        for (int i = 0; i < 60; i++)
        {
            opt.zero_grad();
            using Tensor loss = twin.Loss(batches[i]);
            loss.backward();
            opt.step();
            theirs[i] = loss.item<float>();
        }

        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b) / Math.Max(1e-3, Math.Abs(b))).Max();
        output.WriteLine($"loss ours {ours[0]:F4} → {ours[^1]:F4}, libtorch {theirs[0]:F4} → {theirs[^1]:F4}; worst relative gap {worst:E2}; " +
                         $"60 steps: ours {oursTime.TotalMilliseconds:F0} ms, libtorch {sw.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(ours[^1] < ours[0] - 1.0, $"the model should learn over 60 steps: {ours[0]:F3} → {ours[^1]:F3}");
        Assert.True(worst < 1e-3, $"curves diverge: worst relative gap {worst:E2}");
    }

    [Fact]
    public void TorchMlp_SgdMomentumTraining_CurvesTrackFor60Steps()
    {
        using var threads = OneTorchThread.Scope();
        var model = new DeepMlp(new MlpConfig { Width = 32, Depth = 6, Residual = true, Seed = 9 });
        using var twin = new TorchMlp(model);
        var rng = new Rng(10);
        Batch[] batches = Enumerable.Range(0, 60).Select(_ => SyntheticTasks.TwoSpirals(128, rng)).ToArray();

        var trainer = new Trainer(model, new Sgd(model, 0.02, momentum: 0.9), options: new TrainerOptions { RecordParameterStatistics = false });
        double[] ours = trainer.Run(i => batches[i], 60).Losses;

        using var opt = torch.optim.SGD(twin.Parameters(), 0.02, momentum: 0.9);
        var theirs = new double[60];
        for (int i = 0; i < 60; i++)
        {
            opt.zero_grad();
            using Tensor loss = twin.Loss(batches[i]);
            loss.backward();
            opt.step();
            theirs[i] = loss.item<float>();
        }

        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b) / Math.Max(1e-3, Math.Abs(b))).Max();
        output.WriteLine($"loss ours {ours[0]:F4} → {ours[^1]:F4}, libtorch {theirs[0]:F4} → {theirs[^1]:F4}; worst relative gap {worst:E2}");
        Assert.True(worst < 1e-3, $"curves diverge: worst relative gap {worst:E2}");
    }
}
