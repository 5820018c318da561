using CourseLib.Kernels;
using CourseLib.Torch;
using CourseLib.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// Linear forward and all three gradients against libtorch's <c>F.linear</c> with autograd, on identical inputs.
/// Tolerance: max|diff| ≤ 1e-5·max|ref| (the course's float32 target). Both sides sum the same float products in
/// different orders (libtorch's BLAS blocks k its own way); the reordering error grows like √K·2⁻²⁴ of a typical
/// partial sum, which for K ≤ 768 stays near 1e-6 of max|ref|, so the target is met without loosening it.
/// </summary>
public sealed class LinearTorchTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 13, 5)]
    [InlineData(37, 257, 129)]
    [InlineData(64, 256, 1024)]
    [InlineData(130, 768, 300)]
    public void ForwardBackward_MatchesTorchAutograd(int n, int inDim, int outDim)
    {
        TorchRuntime.Initialize();
        var (x, w, b, dy) = LinearTests.Inputs(n, inDim, outDim, seed: n + inDim + outDim);

        float[] y = new float[n * outDim], dx = new float[n * inDim], dw = new float[outDim * inDim], db = new float[outDim];
        Linear.Forward(x, w, b, y, n, inDim, outDim);
        Linear.Backward(dy, x, w, dx, dw, db, n, inDim, outDim);

        using var scope = NewDisposeScope();
        Tensor tx = TorchInterop.ToTensor(x, [n, inDim], requiresGrad: true);
        Tensor tw = TorchInterop.ToTensor(w, [outDim, inDim], requiresGrad: true);
        Tensor tb = TorchInterop.ToTensor(b, [outDim], requiresGrad: true);
        Tensor ty = nn.functional.linear(tx, tw, tb);
        ty.backward([TorchInterop.ToTensor(dy, [n, outDim])]);

        string shape = $"[{n}×{inDim}→{outDim}] vs libtorch";
        Compare.Close(y, TorchInterop.ToArray(ty), 1e-5, 0, $"y {shape}");
        Compare.Close(dx, TorchInterop.ToArray(tx.grad!), 1e-5, 0, $"dx {shape}");
        Compare.Close(dw, TorchInterop.ToArray(tw.grad!), 1e-5, 0, $"dW {shape}");
        Compare.Close(db, TorchInterop.ToArray(tb.grad!), 1e-5, 0, $"db {shape}");
    }
}
