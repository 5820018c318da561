using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// RMSNorm against libtorch. TorchSharp 0.107 has no <c>rms_norm</c>, so the libtorch side is the composition a
/// user would write, <c>x·rsqrt(mean(x²) + eps)·γ</c> (four kernels and temporaries), with autograd for backward.
/// </summary>
internal sealed class RmsNormSuite : IBenchmarkSuite
{
    public string Name => "RmsNorm";

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
        var d = new NormSuiteData(n, c, 12);
        float[] y = new float[n * c], rstd = new float[n], dx = new float[n * c], dg = new float[c];
        Tensor tx = d.Matrix(d.X, backward), tg = NormSuiteData.Vector(d.Gamma, backward), tdy = d.Matrix(d.Dy, false);
        var resources = new TensorSet(tx, tg, tdy);
        long[] last = [-1];
        Tensor TorchForward() => tx * rsqrt(tx.pow(TorchConstants.Of(2)).mean(last, keepdim: true) + TorchConstants.Of(1e-6)) * tg;
        string shape = $"{n}×{c}";
        if (!backward)
        {
            return new BenchmarkCase("RmsNorm fwd", shape,
                () => RmsNorm.Forward(d.X, d.Gamma, y, rstd, n, c),
                () =>
                {
                    using var scope = NewDisposeScope();
                    TorchForward();
                },
                8.0 * n * c, 0) { Resources = resources };
        }

        return new BenchmarkCase("RmsNorm fwd+bwd", shape,
            () =>
            {
                RmsNorm.Forward(d.X, d.Gamma, y, rstd, n, c);
                RmsNorm.Backward(d.Dy, d.X, d.Gamma, rstd, dx, dg, n, c);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                TorchForward().backward([tdy]);
            },
            24.0 * n * c, 0) { Resources = resources };
    }
}
