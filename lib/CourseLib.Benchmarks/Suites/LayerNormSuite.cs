using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// LayerNorm against <c>F.layer_norm</c>. Forward+backward on the libtorch side is autograd (forward, then
/// <c>backward(dy)</c>, which accumulates into the leaves' <c>.grad</c> exactly as ours accumulates into dx, dγ, dβ):
/// that is how libtorch's fused LayerNorm backward is reached from C#.
/// </summary>
internal sealed class LayerNormSuite : IBenchmarkSuite
{
    public string Name => "LayerNorm";

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
        var d = new NormSuiteData(n, c, 11);
        float[] y = new float[n * c], mean = new float[n], rstd = new float[n], dx = new float[n * c], dg = new float[c], db = new float[c];
        Tensor tx = d.Matrix(d.X, backward), tg = NormSuiteData.Vector(d.Gamma, backward), tb = NormSuiteData.Vector(d.Beta, backward), tdy = d.Matrix(d.Dy, false);
        long[] normalized = [c];
        var resources = new TensorSet(tx, tg, tb, tdy);
        string shape = $"{n}×{c}";
        if (!backward)
        {
            return new BenchmarkCase("LayerNorm fwd", shape,
                () => LayerNorm.Forward(d.X, d.Gamma, d.Beta, y, mean, rstd, n, c),
                () =>
                {
                    using var scope = NewDisposeScope();
                    nn.functional.layer_norm(tx, normalized, tg, tb, 1e-5);
                },
                8.0 * n * c, 0) { Resources = resources };
        }

        return new BenchmarkCase("LayerNorm fwd+bwd", shape,
            () =>
            {
                LayerNorm.Forward(d.X, d.Gamma, d.Beta, y, mean, rstd, n, c);
                LayerNorm.Backward(d.Dy, d.X, d.Gamma, mean, rstd, dx, dg, db, n, c);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                nn.functional.layer_norm(tx, normalized, tg, tb, 1e-5).backward([tdy]);
            },
            // forward reads x, writes y; backward reads dy and x and read-modify-writes dx
            24.0 * n * c, 0) { Resources = resources };
    }
}

/// <summary>Inputs shared by the normalization and softmax suites: fixed-seed data, shapes, tensor lifetime.</summary>
internal sealed class NormSuiteData
{
    public NormSuiteData(int n, int c, int seed)
    {
        var rng = new Random(seed + 31 * n + c);
        X = SuiteData.Randn(rng, n * c, 1f, 0.5f);
        R = SuiteData.Randn(rng, n * c, 1f, 0f);
        Gamma = SuiteData.Randn(rng, c, 0.1f, 1f);
        Beta = SuiteData.Randn(rng, c, 0.1f, 0f);
        Dy = SuiteData.Randn(rng, n * c, 1e-3f, 0f);
    }

    public float[] X { get; }
    public float[] R { get; }
    public float[] Gamma { get; }
    public float[] Beta { get; }
    public float[] Dy { get; }

    /// <summary>The shapes (T ∈ {64, 512, 4096}, C ∈ {256, 768}) plus the tiny [8, 64] that measures call overhead.</summary>
    public static IEnumerable<(int N, int C)> Shapes()
    {
        yield return (8, 64);
        int[] ts = BenchmarkOptions.Quick ? [64, 512] : [64, 512, 4096];
        int[] cs = BenchmarkOptions.Quick ? [256] : [256, 768];
        foreach (int c in cs)
        {
            foreach (int t in ts)
            {
                yield return (t, c);
            }
        }
    }

    /// <summary>An [N, C] tensor (x, r, dy) of the case's shape.</summary>
    public Tensor Matrix(float[] data, bool requiresGrad) => TorchInterop.ToTensor(data, [data.Length / Gamma.Length, Gamma.Length], requiresGrad);

    /// <summary>A [C] tensor (γ, β).</summary>
    public static Tensor Vector(float[] data, bool requiresGrad) => TorchInterop.ToTensor(data, [data.Length], requiresGrad);
}
