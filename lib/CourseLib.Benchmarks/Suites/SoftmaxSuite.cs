using CourseLib.Kernels;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>Row-wise softmax against <c>F.softmax(x, -1)</c>; forward+backward through autograd on the libtorch side.</summary>
internal sealed class SoftmaxSuite : IBenchmarkSuite
{
    public string Name => "Softmax";

    public IEnumerable<BenchmarkCase> Cases()
    {
        foreach ((int n, int c) in NormSuiteData.Shapes())
        {
            yield return Make(n, c, backward: false);
            yield return Make(n, c, backward: true);
        }
    }

    private static BenchmarkCase Make(int n, int c, bool backward)
    {
        var d = new NormSuiteData(n, c, 14);
        float[] y = new float[n * c], dx = new float[n * c];
        Tensor tx = d.Matrix(d.X, backward), tdy = d.Matrix(d.Dy, false);
        var resources = new TensorSet(tx, tdy);
        string shape = $"{n}×{c}";
        if (!backward)
        {
            return new BenchmarkCase("Softmax fwd", shape,
                () => Softmax.Forward(d.X, y, n, c),
                () =>
                {
                    using var scope = NewDisposeScope();
                    nn.functional.softmax(tx, -1);
                },
                8.0 * n * c, 0) { Resources = resources };
        }

        return new BenchmarkCase("Softmax fwd+bwd", shape,
            () =>
            {
                Softmax.Forward(d.X, y, n, c);
                Softmax.Backward(d.Dy, y, dx, n, c);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.softmax(tx, -1).backward([tdy]);
            },
            // forward 8·N·C; backward reads dy and y and read-modify-writes dx
            24.0 * n * c, 0) { Resources = resources };
    }
}
