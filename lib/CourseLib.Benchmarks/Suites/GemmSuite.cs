using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// The raw products under Linear, C[M, N] = op(A)·op(B), against libtorch's BLAS on the same (transposed-view)
/// operands, both writing into a preallocated C (<c>C.addmm_(A, B, beta: 0)</c>, so neither side pays for
/// allocating the output): NT is the forward x·Wᵀ, NN the input gradient dy·W, TN the weight gradient dyᵀ·x.
/// </summary>
internal sealed class GemmSuite : IBenchmarkSuite
{
    public string Name => "Gemm";

    public IEnumerable<BenchmarkCase> Cases()
    {
        (int M, int K, int N)[] shapes = BenchmarkOptions.Quick ? [(512, 256, 1024)] : [(512, 768, 3072), (1024, 1024, 1024), (64, 768, 3072)];
        foreach ((int m, int k, int n) in shapes)
        {
            foreach ((bool ta, bool tb) in new[] { (false, true), (false, false), (true, false) })
            {
                yield return Make(m, k, n, ta, tb);
            }
        }
    }

    private static BenchmarkCase Make(int m, int k, int n, bool transA, bool transB)
    {
        var rng = new Random(m + 7 * k + 13 * n);
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(rng.NextDouble() - 0.5);
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (float)(rng.NextDouble() - 0.5);
        }

        // Stored shapes: A is [m, k] or, transposed, [k, m]; B is [k, n] or [n, k].
        Tensor ta = TorchInterop.ToTensor(a, transA ? [k, m] : [m, k]);
        Tensor tb = TorchInterop.ToTensor(b, transB ? [n, k] : [k, n]);
        Tensor tc = zeros(m, n);
        Tensor opA = transA ? ta.t() : ta, opB = transB ? tb.t() : tb;
        int lda = transA ? m : k, ldb = transB ? k : n;
        string name = $"Gemm {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')}";
        return new BenchmarkCase(name, $"{m}×{k}×{n}",
            () => Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate: false),
            () => tc.addmm_(opA, opB, 0f, 1f),
            4.0 * ((double)m * k + (double)k * n + (double)m * n), 2.0 * m * n * k)
        { Resources = new TensorSet(ta, tb, tc, opA, opB) };
    }

    private sealed class TensorSet(params Tensor[] tensors) : IDisposable
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
