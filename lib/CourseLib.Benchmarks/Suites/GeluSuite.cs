using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// GELU on the FFN hidden activation [T, 4C], exact (erf) and tanh forms, against <c>F.gelu</c>; forward alone and
/// forward + backward (ours: Forward then Backward into a gradient buffer; torch: gelu then autograd backward).
/// Traffic per element: forward reads x and writes y (8 B); backward reads dy, x and reads/writes dx (16 B).
/// FLOPs are left at 0: the op is bound by its exp/divide latency and by memory, so GB/s is the figure to read.
/// </summary>
internal sealed class GeluSuite : IBenchmarkSuite
{
    public string Name => "GELU";

    public IEnumerable<BenchmarkCase> Cases()
    {
        foreach ((int t, int c) in Shapes(BenchmarkOptions.Quick))
        {
            yield return Make(t, c, GeluApproximation.None, backward: false);
            yield return Make(t, c, GeluApproximation.None, backward: true);
        }

        foreach ((int t, int c) in BenchmarkOptions.Quick ? [(512, 1024)] : new[] { (8, 64), (512, 3072), (4096, 3072) })
        {
            yield return Make(t, c, GeluApproximation.Tanh, backward: false);
            yield return Make(t, c, GeluApproximation.Tanh, backward: true);
        }
    }

    /// <summary>[T, 4C] for T ∈ {64, 512, 4096}, C ∈ {256, 768}, and the tiny [8, 64] that measures per-call overhead.</summary>
    internal static IEnumerable<(int Rows, int Cols)> Shapes(bool quick) => quick
        ? [(8, 64), (512, 1024)]
        : [(8, 64), (64, 1024), (64, 3072), (512, 1024), (512, 3072), (4096, 1024), (4096, 3072)];

    private static BenchmarkCase Make(int t, int c, GeluApproximation form, bool backward)
    {
        int n = t * c;
        float[] x = Data(n, 1), dy = Data(n, 2), y = new float[n], dx = new float[n];
        Tensor xt = TorchInterop.ToTensor(x, [t, c], requiresGrad: backward);
        Tensor gt = TorchInterop.ToTensor(dy, [t, c]);
        var approx = form == GeluApproximation.None ? TorchSharp.Modules.GELU.Approximate.none : TorchSharp.Modules.GELU.Approximate.tanh;
        string op = $"GELU{(form == GeluApproximation.Tanh ? " tanh" : "")} {(backward ? "fwd+bwd" : "fwd")}";
        Action ours = backward
            ? () =>
            {
                Gelu.Forward(x, y, form);
                Gelu.Backward(dy, x, dx, form);
            }
            : () => Gelu.Forward(x, y, form);
        Action torch = backward
            ? () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.gelu(xt, approx).backward([gt]);
            }
            : () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.gelu(xt, approx);
            };
        return new BenchmarkCase(op, $"{t}×{c}", ours, torch, (backward ? 24.0 : 8.0) * n, 0) { Resources = new TensorSet(xt, gt) };
    }

    /// <summary>Inputs in [−4, 4): the range where every branch of the activations is exercised.</summary>
    internal static float[] Data(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(rng.NextDouble() * 8 - 4);
        }

        return a;
    }
}
