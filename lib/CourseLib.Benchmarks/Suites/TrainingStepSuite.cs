using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Torch.Models;
using CourseLib.Training;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// One full training step (zero grads, forward, loss, backward, Adam update) of the lesson-sized tiny language
/// model against its TorchSharp twin with the same weights (issue 4: target ≥ 3× faster at C ≤ 128, ≤ 6 layers,
/// where libtorch's per-op overhead dominates). Both sides train on the same fixed batch.
/// </summary>
internal sealed class TrainingStepSuite : IBenchmarkSuite
{
    public string Name => "TrainingStep";

    public IEnumerable<BenchmarkCase> Cases()
    {
        (int C, int Layers)[] shapes = BenchmarkOptions.Quick ? [(64, 2)] : [(64, 2), (64, 6), (128, 2), (128, 6)];
        foreach ((int c, int layers) in shapes)
        {
            yield return Make(c, layers, batch: 8, time: 32);
        }
    }

    private static BenchmarkCase Make(int c, int layers, int batch, int time)
    {
        const int vocab = 65;
        var model = new TinyLm(new LmConfig { Vocab = vocab, Context = time, Channels = c, Heads = 4, Layers = layers, Placement = NormPlacement.PreLn, Seed = 3 });
        var twin = new TorchLm(model);
        var rng = new Rng(5);
        int[] tokens = new int[batch * time], labels = new int[batch * time];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.Next(vocab);
            labels[i] = rng.Next(vocab);
        }

        Batch data = Batch.ForTokens(batch, time, tokens, labels);
        var ours = new Adam(model, 1e-4, 0.9, 0.98);
        var theirs = optim.Adam(twin.Parameters(), lr: 1e-4, beta1: 0.9, beta2: 0.98);
        double flops = 3.0 * model.ForwardFlops(new ForwardContext(batch, time));
        return new BenchmarkCase("TinyLm train step", $"C={c} L={layers} B={batch} T={time}",
            () =>
            {
                model.ZeroGrad();
                model.Forward(data);
                model.Backward();
                ours.Step();
            },
            () =>
            {
                using var scope = NewDisposeScope();
                theirs.zero_grad();
                Tensor loss = twin.Loss(data);
                loss.backward();
                theirs.step();
            },
            0, flops) { Resources = new Owned(twin, theirs) };
    }

    private sealed class Owned(IDisposable twin, IDisposable optimizer) : IDisposable
    {
        public void Dispose()
        {
            optimizer.Dispose();
            twin.Dispose();
        }
    }
}
