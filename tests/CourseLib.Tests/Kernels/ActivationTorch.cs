using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// Runs a function through libtorch with autograd, as llm.c checks against PyTorch: the loss is sum(y·g) for a fixed
/// upstream gradient g, so every input's .grad is exactly what our Backward accumulates for dy = g.
/// </summary>
internal static class ActivationTorch
{
    public static (float[] Y, float[][] Grads) Run(Func<Tensor[], Tensor> f, float[] g, params (float[] Data, long[] Shape)[] inputs)
    {
        TorchRuntime.Initialize();
        using DisposeScope scope = NewDisposeScope();
        Tensor[] ts = inputs.Select(i => TorchInterop.ToTensor(i.Data, i.Shape, requiresGrad: true)).ToArray();
        Tensor y = f(ts);
        Tensor gt = TorchInterop.ToTensor(g, y.shape);
        (y * gt).sum().backward();
        return (TorchInterop.ToArray(y), ts.Select(t => TorchInterop.ToArray(t.grad!)).ToArray());
    }

    /// <summary>Forward only, no autograd (for special values whose gradients we do not compare).</summary>
    public static float[] Forward(Func<Tensor, Tensor> f, float[] x)
    {
        TorchRuntime.Initialize();
        using DisposeScope scope = NewDisposeScope();
        return TorchInterop.ToArray(f(TorchInterop.ToTensor(x, new long[] { x.Length })));
    }

    public static Tensor Gelu(Tensor x, bool exact) =>
        nn.functional.gelu(x, exact ? TorchSharp.Modules.GELU.Approximate.none : TorchSharp.Modules.GELU.Approximate.tanh);

    /// <summary>Inputs that cover the interesting range of the activations: N(0, 2²) plus a few large values.</summary>
    public static float[] Spread(int n, int seed)
    {
        float[] x = Support.Compare.Randn(n, seed, 2f);
        for (int i = 0; i < n; i += 17)
        {
            x[i] *= 4;
        }

        return x;
    }

    /// <summary>Moves values away from a kink at 0 so central differences with step 1e-3 do not straddle it.</summary>
    public static float[] AwayFromZero(float[] x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (Math.Abs(x[i]) < 0.01f)
            {
                x[i] = x[i] < 0 ? x[i] - 0.01f : x[i] + 0.01f;
            }
        }

        return x;
    }
}
