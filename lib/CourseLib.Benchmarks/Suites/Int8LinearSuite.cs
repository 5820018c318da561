using CourseLib.Kernels.LowPrecision;
using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// int8 weight-only quantized Linear forward (per-channel scales, dequantized in blocks, float accumulation) against
/// libtorch's float32 <c>F.linear</c> on the same layer. W costs a quarter of float32's bytes to read, which is what
/// limits a Linear at small T (decode-time inference); at large T the dequantization is overhead on a compute-bound
/// product. Bytes counts the int8 weights plus the scales.
/// </summary>
internal sealed class Int8LinearSuite : IBenchmarkSuite
{
    public string Name => "Int8 Linear";

    public IEnumerable<BenchmarkCase> Cases()
    {
        int[] ts = BenchmarkOptions.Quick ? [1, 64] : [1, 8, 64, 512];
        int[] cs = BenchmarkOptions.Quick ? [256] : [256, 768];
        foreach (int c in cs)
        {
            foreach (int t in ts)
            {
                yield return Make(t, c, 4 * c);
            }
        }
    }

    private static BenchmarkCase Make(int n, int inDim, int outDim)
    {
        var rng = new Random(2025 + n + inDim);
        float[] x = SuiteData.Randn(rng, n * inDim, 1f), w = SuiteData.Randn(rng, outDim * inDim, 1f / MathF.Sqrt(inDim));
        float[] b = SuiteData.Randn(rng, outDim, 0.1f), y = new float[n * outDim];
        var q = new sbyte[w.Length];
        var scales = new float[outDim];
        Int8Linear.Quantize(w, q, scales, inDim, outDim);

        Tensor tx = TorchInterop.ToTensor(x, [n, inDim]), tw = TorchInterop.ToTensor(w, [outDim, inDim]), tb = TorchInterop.ToTensor(b, [outDim]);
        double bytes = (double)outDim * inDim + 4.0 * (outDim + n * inDim + outDim + (double)n * outDim);
        return new BenchmarkCase("Int8 Linear fwd", $"{n}×{inDim}→{outDim}",
            () => Int8Linear.Forward(x, q, scales, b, y, n, inDim, outDim),
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.linear(tx, tw, tb);
            },
            bytes, 2.0 * n * inDim * outDim) { Resources = new TensorSet(tx, tw, tb) };
    }
}
