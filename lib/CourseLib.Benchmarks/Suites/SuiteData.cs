using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>Inputs shared by the suites.</summary>
internal static class SuiteData
{
    /// <summary>count samples of offset + scale·N(0, 1) (Box–Muller), deterministic for a seeded <paramref name="rng"/>.</summary>
    public static float[] Randn(Random rng, int count, float scale = 1f, float offset = 0f)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = offset + scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return a;
    }
}

/// <summary>Owns a case's libtorch tensors and disposes them with the case.</summary>
internal sealed class TensorSet(params Tensor[] tensors) : IDisposable
{
    public void Dispose()
    {
        foreach (Tensor t in tensors)
        {
            t.Dispose();
        }
    }
}
