using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// SwiGLU and GEGLU on h [T, 2H] (H = 2048 = 8/3·768, LLaMA's sizing for C = 768) against torch's composition
/// <c>act(h[:, :H]) * h[:, H:]</c>, forward and forward + backward into dh. Minimum traffic per output element:
/// forward reads two inputs and writes one (12 B); backward reads dy and both halves of h and reads/writes both
/// halves of dh (28 B).
/// </summary>
internal sealed class GatedSuite : IBenchmarkSuite
{
    public string Name => "Gated";

    public IEnumerable<BenchmarkCase> Cases()
    {
        foreach ((int t, int hidden) in BenchmarkOptions.Quick ? [(8, 64), (512, 1024)] : new[] { (8, 64), (512, 2048), (4096, 2048) })
        {
            foreach (GateKind kind in new[] { GateKind.SwiGlu, GateKind.GeGlu })
            {
                yield return Make(t, hidden, kind, backward: false);
                yield return Make(t, hidden, kind, backward: true);
            }
        }
    }

    private static BenchmarkCase Make(int t, int hidden, GateKind kind, bool backward)
    {
        int n = t * hidden;
        float[] h = GeluSuite.Data(2 * n, 8), dy = GeluSuite.Data(n, 9), y = new float[n], dh = new float[2 * n];
        Tensor ht = TorchInterop.ToTensor(h, [t, 2 * hidden], requiresGrad: backward);
        Tensor gt = TorchInterop.ToTensor(dy, [t, hidden]);
        Tensor Torch()
        {
            Tensor gate = ht.narrow(1, 0, hidden), value = ht.narrow(1, hidden, hidden);
            return (kind == GateKind.SwiGlu ? nn.functional.silu(gate) : nn.functional.gelu(gate)) * value;
        }

        Action ours = backward
            ? () =>
            {
                Gated.Forward(h, y, t, hidden, kind);
                Gated.Backward(dy, h, dh, t, hidden, kind);
            }
            : () => Gated.Forward(h, y, t, hidden, kind);
        Action torch = backward
            ? () =>
            {
                using var scope = NewDisposeScope();
                Torch().backward([gt]);
            }
            : () =>
            {
                using var scope = NewDisposeScope();
                Torch();
            };
        return new BenchmarkCase($"{kind} {(backward ? "fwd+bwd" : "fwd")}", $"{t}×2·{hidden}", ours, torch, (backward ? 40.0 : 12.0) * n, 0)
        {
            Resources = new TensorSet(ht, gt),
        };
    }
}
