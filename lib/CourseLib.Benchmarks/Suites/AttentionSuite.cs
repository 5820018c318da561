using CourseLib.Kernels;
using CourseLib.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Benchmarks.Suites;

/// <summary>
/// Causal self-attention (head size 64, as in GPT-2) against two libtorch paths for the same function:
/// the composition a PyTorch user writes (<c>softmax(mask(q·kᵀ/√d))·v</c>, which also returns att like ours) and
/// <c>scaled_dot_product_attention(is_causal)</c>, libtorch's fused CPU kernel (it keeps no att cache, so it does
/// less work than ours). Forward+backward uses autograd on the torch side.
/// T stops at 512: the att cache alone is B·H·T²·4 bytes, 805 MB at T = 4096, C = 768.
/// </summary>
internal sealed class AttentionSuite : IBenchmarkSuite
{
    private const int HeadSize = 64;

    public string Name => "Attention";

    public IEnumerable<BenchmarkCase> Cases()
    {
        int[] ts = BenchmarkOptions.Quick ? [64, 512] : [64, 256, 512];
        int[] cs = BenchmarkOptions.Quick ? [256] : [256, 768];
        foreach (int c in cs)
        {
            foreach (int t in ts)
            {
                yield return Make(t, c, backward: false, fused: false);
                yield return Make(t, c, backward: false, fused: true);
                yield return Make(t, c, backward: true, fused: false);
                yield return Make(t, c, backward: true, fused: true);
            }
        }
    }

    private static BenchmarkCase Make(int t, int c, bool backward, bool fused)
    {
        const int b = 1;
        int h = c / HeadSize;
        var rng = new Random(4321 + t + c);
        float[] qkv = SuiteData.Randn(rng, b * t * 3 * c), dout = SuiteData.Randn(rng, b * t * c);
        float[] output = new float[b * t * c], att = new float[b * h * t * t], dqkv = new float[qkv.Length];

        Tensor tqkv = TorchInterop.ToTensor(qkv, [b, t, 3 * c], requiresGrad: backward);
        Tensor tdout = TorchInterop.ToTensor(dout, [b, t, c]);
        Tensor future = ones(t, t, ScalarType.Bool).triu(1);
        var resources = new TensorSet(tqkv, tdout, future);

        Tensor TorchForward()
        {
            Tensor[] parts = tqkv.split(c, 2);
            Tensor q = parts[0].view(b, t, h, HeadSize).transpose(1, 2);
            Tensor k = parts[1].view(b, t, h, HeadSize).transpose(1, 2);
            Tensor v = parts[2].view(b, t, h, HeadSize).transpose(1, 2);
            Tensor y = fused
                ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)
                : q.matmul(k.transpose(-2, -1)).mul_(TorchConstants.Of(1.0 / Math.Sqrt(HeadSize))).masked_fill_(future, TorchConstants.Of(double.NegativeInfinity)).softmax(-1).matmul(v);
            return y.transpose(1, 2).contiguous().view(b, t, c);
        }

        // Causal: (T(T+1)/2 pairs) · d multiply-adds for q·k and again for att·v, per head.
        double pairs = (double)b * h * t * (t + 1) / 2;
        double fwdFlops = 2 * 2 * pairs * HeadSize;
        double fwdBytes = 4.0 * (qkv.Length + output.Length + att.Length);
        string shape = $"B{b} T{t} C{c} H{h}";
        string vs = fused ? " (vs sdpa)" : "";
        if (!backward)
        {
            return new BenchmarkCase("Attention fwd" + vs, shape,
                () => Attention.Forward(qkv, output, att, b, t, c, h),
                () =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    TorchForward();
                },
                fwdBytes, fwdFlops) { Resources = resources };
        }

        return new BenchmarkCase("Attention fwd+bwd" + vs, shape,
            () =>
            {
                Attention.Forward(qkv, output, att, b, t, c, h);
                Attention.Backward(dout, qkv, att, dqkv, b, t, c, h);
            },
            () =>
            {
                using var scope = NewDisposeScope();
                TorchForward().backward([tdout]);
            },
            // Backward reads qkv, dout, att and read-modify-writes dqkv; four more products of the forward's size.
            fwdBytes + 4.0 * (qkv.Length + dout.Length + att.Length + 2.0 * dqkv.Length), 3 * fwdFlops) { Resources = resources };
    }
}
