using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// Fused bias + GELU on [T, 4C] against torch's two ops <c>F.gelu(x + b)</c> (what an unfused FFN does), forward and
/// forward + backward with dbias. Minimum traffic: forward 8 B per element; backward 16 B per element (dy, x, dx read
/// and written); the [4C] bias and its gradient are negligible.
/// </summary>
internal sealed class BiasGeluSuite : IBenchmarkSuite
{
    public string Name => "BiasGELU";

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
        float[] x = GeluSuite.Data(n, 5), b = GeluSuite.Data(c, 6), dy = GeluSuite.Data(n, 7), y = new float[n], dx = new float[n], db = new float[c];
        Tensor xt = TorchInterop.ToTensor(x, [t, c], requiresGrad: backward);
        Tensor bt = TorchInterop.ToTensor(b, [c], requiresGrad: backward);
        Tensor gt = TorchInterop.ToTensor(dy, [t, c]);
        Action ours = backward
            ? () =>
            {
                BiasGelu.Forward(x, b, y, t, c);
                BiasGelu.Backward(dy, x, b, dx, db, t, c);
            }
            : () => BiasGelu.Forward(x, b, y, t, c);
        Action torch = backward
            ? () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.gelu(xt + bt).backward([gt]);
            }
            : () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.gelu(xt + bt);
            };
        return new BenchmarkCase($"bias+GELU {(backward ? "fwd+bwd" : "fwd")}", $"{t}×{c}", ours, torch, (backward ? 24.0 : 8.0) * n, 0)
        {
            Resources = new TensorSet(xt, bt, gt),
        };
    }
}
