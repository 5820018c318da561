using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>SiLU on [T, 4C] against <c>F.silu</c>, forward and forward + backward (traffic as in <see cref="GeluSuite"/>).</summary>
internal sealed class SiluSuite : IBenchmarkSuite
{
    public string Name => "SiLU";

    public IEnumerable<BenchmarkCase> Cases()
    {
        foreach ((int t, int c) in BenchmarkOptions.Quick ? [(8, 64), (512, 1024)] : new[] { (8, 64), (512, 3072), (4096, 3072) })
        {
            yield return Make(t, c, backward: false);
            yield return Make(t, c, backward: true);
        }
    }

    private static BenchmarkCase Make(int t, int c, bool backward)
    {
        int n = t * c;
        float[] x = GeluSuite.Data(n, 3), dy = GeluSuite.Data(n, 4), y = new float[n], dx = new float[n];
        Tensor xt = TorchInterop.ToTensor(x, [t, c], requiresGrad: backward);
        Tensor gt = TorchInterop.ToTensor(dy, [t, c]);
        Action ours = backward
            ? () =>
            {
                Silu.Forward(x, y);
                Silu.Backward(dy, x, dx);
            }
            : () => Silu.Forward(x, y);
        Action torch = backward
            ? () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.silu(xt).backward([gt]);
            }
            : () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.silu(xt);
            };
        return new BenchmarkCase($"SiLU {(backward ? "fwd+bwd" : "fwd")}", $"{t}×{c}", ours, torch, (backward ? 24.0 : 8.0) * n, 0)
        {
            Resources = new TensorSet(xt, gt),
        };
    }
}
