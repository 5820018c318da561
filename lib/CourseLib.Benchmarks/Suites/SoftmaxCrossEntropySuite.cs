using CourseLib.Kernels;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// Softmax + mean cross-entropy over [T, V] logits (every 8th row ignored) against <c>F.cross_entropy</c> with
/// <c>ignore_index: -1</c>; forward+backward through autograd. Ours also writes the probabilities (kept for backward).
/// </summary>
internal sealed class SoftmaxCrossEntropySuite : IBenchmarkSuite
{
    public string Name => "SoftmaxCrossEntropy";

    public IEnumerable<BenchmarkCase> Cases()
    {
        foreach ((int n, int v) in NormSuiteData.Shapes())
        {
            yield return Make(n, v, backward: false);
            yield return Make(n, v, backward: true);
        }
    }

    private static BenchmarkCase Make(int n, int v, bool backward)
    {
        var d = new NormSuiteData(n, v, 15);
        var rng = new Random(n + v);
        int[] targets = Enumerable.Range(0, n).Select(i => i % 8 == 7 ? -1 : rng.Next(v)).ToArray();
        float[] probs = new float[n * v], dlogits = new float[n * v];
        Tensor tl = d.Matrix(d.X, backward);
        Tensor tt = tensor(targets.Select(t => (long)t).ToArray());
        var resources = new TensorSet(tl, tt);
        string shape = $"{n}×{v}";
        if (!backward)
        {
            return new BenchmarkCase("SoftmaxCE fwd", shape,
                () => SoftmaxCrossEntropy.Forward(d.X, targets, probs, n, v),
                () =>
                {
                    using var scope = NewDisposeScope();
                    nn.functional.cross_entropy(tl, tt, ignore_index: -1);
                },
                8.0 * n * v, 0) { Resources = resources };
        }

        return new BenchmarkCase("SoftmaxCE fwd+bwd", shape,
            () =>
            {
                SoftmaxCrossEntropy.Forward(d.X, targets, probs, n, v);
                SoftmaxCrossEntropy.Backward(probs, targets, dlogits, n, v);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.cross_entropy(tl, tt, ignore_index: -1).backward();
            },
            // forward 8·N·V; backward reads probs and read-modify-writes dlogits
            20.0 * n * v, 0) { Resources = resources };
    }
}
