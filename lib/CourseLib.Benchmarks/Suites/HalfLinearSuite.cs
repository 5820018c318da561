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
        float[] x = LowPrecisionSuiteData.Randn(rng, n * inDim, 1f), w = LowPrecisionSuiteData.Randn(rng, outDim * inDim, 1f / MathF.Sqrt(inDim));
        float[] b = LowPrecisionSuiteData.Randn(rng, outDim, 0.1f), y = new float[n * outDim];
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
            bytes, 2.0 * n * inDim * outDim) { Resources = new LowPrecisionSuiteData.TensorSet(tx, tw, tb) };
    }
}

/// <summary>Inputs and tensor ownership shared by the low-precision suites.</summary>
internal static class LowPrecisionSuiteData
{
    public static float[] Randn(Random rng, int count, float scale)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return a;
    }

    /// <summary>The tensors a case holds, released together when the case is done.</summary>
    public sealed class TensorSet(params Tensor[] tensors) : IDisposable
    {
        public void Dispose()
        {
            foreach (Tensor t in tensors)
            {
                t.Dispose();
            }
        }
    }
}
