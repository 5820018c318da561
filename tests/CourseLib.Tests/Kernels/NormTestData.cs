using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>Inputs and libtorch plumbing shared by the normalization, softmax and dropout tests.</summary>
internal static class NormTestData
{
    /// <summary>Row counts that are not multiples of anything: one row, and two odd ones.</summary>
    public static readonly int[] OddRows = { 1, 3, 7 };

    /// <summary>N(offset, scale²) values from a fixed seed; an offset makes mean subtraction matter.</summary>
    public static float[] Randn(int count, int seed, float scale = 1f, float offset = 0f)
    {
        float[] a = Support.Compare.Randn(count, seed, scale);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] += offset;
        }

        return a;
    }

    /// <summary>A float32 tensor of <paramref name="data"/>, registered in the current dispose scope.</summary>
    public static Tensor T(float[] data, long[] shape, bool grad = false) => TorchInterop.ToTensor(data, shape, grad);

    /// <summary>The gradient libtorch accumulated into a leaf, as float[].</summary>
    public static float[] Grad(Tensor leaf)
    {
        Tensor? g = leaf.grad;
        Assert.NotNull(g);
        return TorchInterop.ToArray(g!);
    }

    /// <summary>Σ y·g in double: the scalar loss whose gradient with respect to y is g.</summary>
    public static double Dot(ReadOnlySpan<float> y, ReadOnlySpan<float> g)
    {
        double s = 0;
        for (int i = 0; i < g.Length; i++)
        {
            s += (double)y[i] * g[i];
        }

        return s;
    }

    /// <summary>Starts a torch scope after making sure libtorch is loaded.</summary>
    public static IDisposable Scope()
    {
        TorchRuntime.Initialize();
        return torch.NewDisposeScope();
    }
}
