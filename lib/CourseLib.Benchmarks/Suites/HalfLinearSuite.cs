using CourseLib.Kernels.LowPrecision;
using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// Linear forward with Half and bfloat16 weights (widened to float in blocks, float accumulation) against libtorch's
/// float32 <c>F.linear</c> on the same layer. At small T a Linear is limited by reading W, and 16-bit storage halves
/// those bytes; at large T it is compute-bound and the widening is pure overhead. Bytes counts the stored width.
/// </summary>
internal sealed class HalfLinearSuite : IBenchmarkSuite
{
    public string Name => "Half/BF16 Linear";

    public IEnumerable<BenchmarkCase> Cases()
    {
        int[] ts = BenchmarkOptions.Quick ? [1, 64] : [1, 8, 64, 512];
        int[] cs = BenchmarkOptions.Quick ? [256] : [256, 768];
        foreach (int c in cs)
        {
            foreach (int t in ts)
            {
                yield return Make(t, c, 4 * c, bfloat16: false);
                yield return Make(t, c, 4 * c, bfloat16: true);
            }
        }
    }

    private static BenchmarkCase Make(int n, int inDim, int outDim, bool bfloat16)
    {
        var rng = new Random(2024 + n + inDim);
        float[] x = SuiteData.Randn(rng, n * inDim, 1f), w = SuiteData.Randn(rng, outDim * inDim, 1f / MathF.Sqrt(inDim));
        float[] b = SuiteData.Randn(rng, outDim, 0.1f), y = new float[n * outDim];
        var half = new Half[w.Length];
        HalfConvert.ToHalf(w, half);
        var bf = new ushort[w.Length];
        BFloat16Convert.ToBFloat16(w, bf);

        Tensor tx = TorchInterop.ToTensor(x, [n, inDim]), tw = TorchInterop.ToTensor(w, [outDim, inDim]), tb = TorchInterop.ToTensor(b, [outDim]);
        double bytes = 2.0 * outDim * inDim + 4.0 * (n * inDim + outDim + (double)n * outDim);
        Action ours = bfloat16
            ? () => BFloat16Linear.Forward(x, bf, b, y, n, inDim, outDim)
            : () => HalfLinear.Forward(x, half, b, y, n, inDim, outDim);
        return new BenchmarkCase(bfloat16 ? "BF16 Linear fwd" : "Half Linear fwd", $"{n}×{inDim}→{outDim}", ours,
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.linear(tx, tw, tb);
            },
            bytes, 2.0 * n * inDim * outDim) { Resources = new TensorSet(tx, tw, tb) };
    }
}
