using CourseLib.Kernels;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// sum = x + r; y = LayerNorm(sum), fused, against libtorch's two kernels (<c>add</c>, <c>layer_norm</c>);
/// forward+backward on the libtorch side is autograd through both.
/// </summary>
internal sealed class ResidualLayerNormSuite : IBenchmarkSuite
{
    public string Name => "ResidualLayerNorm";

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
        var d = new NormSuiteData(n, c, 13);
        float[] sum = new float[n * c], y = new float[n * c], mean = new float[n], rstd = new float[n];
        float[] dsum = new float[n * c], dg = new float[c], db = new float[c];
        Tensor tx = d.Matrix(d.X, backward), tr = d.Matrix(d.R, backward), tg = NormSuiteData.Vector(d.Gamma, backward);
        Tensor tb = NormSuiteData.Vector(d.Beta, backward), tdy = d.Matrix(d.Dy, false);
        var resources = new TensorSet(tx, tr, tg, tb, tdy);
        long[] normalized = [c];
        string shape = $"{n}×{c}";
        if (!backward)
        {
            return new BenchmarkCase("Residual+LN fwd", shape,
                () => ResidualLayerNorm.Forward(d.X, d.R, d.Gamma, d.Beta, sum, y, mean, rstd, n, c),
                () =>
                {
                    using var scope = NewDisposeScope();
                    nn.functional.layer_norm(tx + tr, normalized, tg, tb, 1e-5);
                },
                // reads x and r, writes sum and y
                16.0 * n * c, 0) { Resources = resources };
        }

        return new BenchmarkCase("Residual+LN fwd+bwd", shape,
            () =>
            {
                ResidualLayerNorm.Forward(d.X, d.R, d.Gamma, d.Beta, sum, y, mean, rstd, n, c);
                ResidualLayerNorm.Backward(d.Dy, ReadOnlySpan<float>.Empty, sum, d.Gamma, mean, rstd, dsum, dg, db, n, c);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.layer_norm(tx + tr, normalized, tg, tb, 1e-5).backward([tdy]);
            },
            // forward 16·N·C; backward reads dy and sum and read-modify-writes dsum
            32.0 * n * c, 0) { Resources = resources };
    }
}
