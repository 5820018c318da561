using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using CourseLib.Kernels;
using CourseLib.Torch;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// The whole Pre-LN FFN sublayer, out = x + W₂·GELU(W₁·LN(x) + b₁) + b₂, forward and backward, built from our kernels
/// against the same composition in libtorch with autograd (issue 3: fwd+bwd ≤ 1.0× libtorch). Hidden width 4C.
/// Both sides accumulate weight gradients across calls; ours zeroes its activation gradients each call, as autograd
/// allocates fresh ones.
/// </summary>
internal sealed class FfnSublayerSuite : IBenchmarkSuite
{
    public string Name => "FFN sublayer";

    public IEnumerable<BenchmarkCase> Cases()
    {
        (int T, int C)[] shapes = BenchmarkOptions.Quick ? [(64, 256)] : [(64, 256), (512, 256), (64, 768), (512, 768)];
        foreach ((int t, int c) in shapes)
        {
            yield return Make(t, c);
        }
    }

    private static BenchmarkCase Make(int t, int c)
    {
        int h = 4 * c;
        float[] x = SuiteData.Randn(new Random(1), t * c, 1f), dout = SuiteData.Randn(new Random(2), t * c, 1f);
        float[] g = Enumerable.Repeat(1f, c).ToArray(), beta = new float[c];
        float[] w1 = SuiteData.Randn(new Random(3), h * c, 1f / MathF.Sqrt(c)), b1 = SuiteData.Randn(new Random(4), h, 0.01f);
        float[] w2 = SuiteData.Randn(new Random(5), c * h, 1f / MathF.Sqrt(h)), b2 = SuiteData.Randn(new Random(6), c, 0.01f);

        // Activations and gradients, allocated once.
        float[] xn = new float[t * c], mean = new float[t], rstd = new float[t], pre = new float[t * h], act = new float[t * h];
        float[] y = new float[t * c], outp = new float[t * c];
        float[] dAct = new float[t * h], dPre = new float[t * h], dXn = new float[t * c], dx = new float[t * c];
        float[] dg = new float[c], dbeta = new float[c], dw1 = new float[h * c], db1 = new float[h], dw2 = new float[c * h], db2 = new float[c];

        Tensor tx = TorchInterop.ToTensor(x, [t, c], requiresGrad: true), tdout = TorchInterop.ToTensor(dout, [t, c]);
        Tensor tg = TorchInterop.ToTensor(g, [c], true), tbeta = TorchInterop.ToTensor(beta, [c], true);
        Tensor tw1 = TorchInterop.ToTensor(w1, [h, c], true), tb1 = TorchInterop.ToTensor(b1, [h], true);
        Tensor tw2 = TorchInterop.ToTensor(w2, [c, h], true), tb2 = TorchInterop.ToTensor(b2, [c], true);
        long[] normalized = [c];

        return new BenchmarkCase("FFN sublayer fwd+bwd", $"{t}×{c}→{h}",
            () =>
            {
                // forward: out = x + Linear₂(GELU(Linear₁(LN(x))))
                LayerNorm.Forward(x, g, beta, xn, mean, rstd, t, c);
                Linear.Forward(xn, w1, b1, pre, t, c, h);
                Gelu.Forward(pre, act);
                Linear.Forward(act, w2, b2, y, t, h, c);
                TensorPrimitives.Add(x, y, outp);

                // backward: the residual passes dout straight to dx; the sublayer adds its part
                Array.Clear(dAct);
                Array.Clear(dPre);
                Array.Clear(dXn);
                dout.CopyTo(dx, 0);
                Linear.Backward(dout, act, w2, dAct, dw2, db2, t, h, c);
                Gelu.Backward(dAct, pre, dPre);
                Linear.Backward(dPre, xn, w1, dXn, dw1, db1, t, c, h);
                LayerNorm.Backward(dXn, x, g, mean, rstd, dx, dg, dbeta, t, c);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                Tensor ln = nn.functional.layer_norm(tx, normalized, tg, tbeta, 1e-5);
                Tensor o = tx + nn.functional.linear(nn.functional.gelu(nn.functional.linear(ln, tw1, tb1)), tw2, tb2);
                o.backward([tdout]);
            },
            0, 12.0 * t * c * h) { Resources = new TensorSet(tx, tdout, tg, tbeta, tw1, tb1, tw2, tb2) };
    }
}
