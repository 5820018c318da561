using CourseLib.Kernels;
using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// Linear (the transformer's FFN projections, C → 4C and 4C → C) against libtorch's best path for the same work:
/// forward is <c>F.linear(x, W, b)</c>; forward+backward adds the three gradients with in-place BLAS calls that
/// accumulate exactly as ours do (<c>dx.addmm_(dy, W)</c>, <c>dW.addmm_(dyᵀ, x)</c>, <c>db += Σ dy</c>), so autograd
/// bookkeeping is not counted against libtorch.
/// </summary>
internal sealed class LinearSuite : IBenchmarkSuite
{
    public string Name => "Linear";

    public IEnumerable<BenchmarkCase> Cases()
    {
        int[] ts = BenchmarkOptions.Quick ? [64, 512] : [64, 512, 4096];
        int[] cs = BenchmarkOptions.Quick ? [256] : [256, 768];
        foreach (int c in cs)
        {
            foreach ((int inDim, int outDim) in new[] { (c, 4 * c), (4 * c, c) })
            {
                foreach (int t in ts)
                {
                    yield return Make(t, inDim, outDim, backward: false);
                    yield return Make(t, inDim, outDim, backward: true);
                }
            }
        }
    }

    private static BenchmarkCase Make(int n, int inDim, int outDim, bool backward)
    {
        var rng = new Random(1234 + n + inDim + outDim);
        float[] x = SuiteData.Randn(rng, n * inDim, 1f), w = SuiteData.Randn(rng, outDim * inDim, 1f / MathF.Sqrt(inDim)), b = SuiteData.Randn(rng, outDim, 0.1f);
        float[] dy = SuiteData.Randn(rng, n * outDim, 1e-3f);
        float[] y = new float[n * outDim], dx = new float[n * inDim], dw = new float[outDim * inDim], db = new float[outDim];

        Tensor tx = TorchInterop.ToTensor(x, [n, inDim]), tw = TorchInterop.ToTensor(w, [outDim, inDim]), tb = TorchInterop.ToTensor(b, [outDim]);
        Tensor tdy = TorchInterop.ToTensor(dy, [n, outDim]);
        Tensor tdx = zeros(n, inDim), tdw = zeros(outDim, inDim), tdb = zeros(outDim);
        var resources = new TensorSet(tx, tw, tb, tdy, tdx, tdw, tdb);

        double fwdFlops = 2.0 * n * inDim * outDim;
        double fwdBytes = 4.0 * ((double)n * inDim + (double)outDim * inDim + outDim + (double)n * outDim);
        string shape = $"{n}×{inDim}→{outDim}";
        if (!backward)
        {
            return new BenchmarkCase("Linear fwd", shape,
                () => Linear.Forward(x, w, b, y, n, inDim, outDim),
                () =>
                {
                    using var scope = NewDisposeScope();
                    nn.functional.linear(tx, tw, tb);
                },
                fwdBytes, fwdFlops) { Resources = resources };
        }

        return new BenchmarkCase("Linear fwd+bwd", shape,
            () =>
            {
                Linear.Forward(x, w, b, y, n, inDim, outDim);
                Linear.Backward(dy, x, w, dx, dw, db, n, inDim, outDim);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.linear(tx, tw, tb);
                tdx.addmm_(tdy, tw);
                tdw.addmm_(tdy.t(), tx);
                tdb.add_(tdy.sum(0));
            },
            3 * fwdBytes, 3 * fwdFlops) { Resources = resources };
    }
}
