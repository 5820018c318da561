using CourseLib.Init;
using CourseLib.Kernels;
using CourseLib.Layers;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Layers;

public class LayerTests
{
    private static readonly ForwardContext Ctx = new(Batch: 2, Time: 5);

    [Fact]
    public void LinearLayer_Gradients_MatchFiniteDifferences() =>
        GradCheck.Layer(new LinearLayer(7, 5, new Rng(1)), Compare.Randn(10 * 7, 2), Ctx);

    [Theory]
    [InlineData(NormKind.LayerNorm)]
    [InlineData(NormKind.RmsNorm)]
    [InlineData(NormKind.BatchNorm)]
    [InlineData(NormKind.Dyt)]
    public void NormLayer_Gradients_MatchFiniteDifferences(NormKind kind)
    {
        NormLayer norm = NormLayer.Create(kind, 6);
        // Non-trivial γ, β so their gradients and the γ-weighted input gradient are exercised.
        foreach (var p in norm.Parameters())
        {
            Compare.Randn(p.Count, 5, 0.3f).Select((v, i) => p.Data[i] + v).ToArray().CopyTo(p.Data, 0);
        }

        GradCheck.Layer(norm, Compare.Randn(10 * 6, 3, 2f), Ctx);
    }

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.ReGlu)]
    [InlineData(Activation.GeGlu)]
    [InlineData(Activation.SwiGlu)]
    [InlineData(Activation.Glu)]
    public void FeedForward_Gradients_MatchFiniteDifferences(Activation activation) =>
        GradCheck.Layer(new FeedForward(6, activation, new Rng(4), hidden: 9), Compare.Randn(10 * 6, 5), Ctx);

    [Theory]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.Silu)]
    public void ElementwiseActivation_BackwardOverwriting_EqualsAccumulatingIntoZeros(Activation activation)
    {
        // Lengths with a vector tail, and one long enough to split across two threads (on a 2-core machine or more).
        foreach (int n in new[] { 1, 7, 16, 45, 70_001 })
        {
            float[] x = Compare.Randn(n, 31, 2f), dy = Compare.Randn(n, 32);
            float[] expected = new float[n];
            ElementwiseActivation.Forward(activation, x, new float[n]);
            switch (activation)
            {
                case Activation.Relu: Relu.Backward(dy, x, expected); break;
                case Activation.Silu: Silu.Backward(dy, x, expected); break;
                default: Gelu.Backward(dy, x, expected, activation == Activation.Gelu ? GeluApproximation.None : GeluApproximation.Tanh); break;
            }

            float[] dx = Compare.Randn(n, 33);
            dx[n / 2] = float.NaN; // whatever the buffer held, NaN included, must not leak into the result
            ElementwiseActivation.BackwardOverwriting(activation, dy, x, dx);
            Assert.Equal(expected, dx);

            // The Vector256 form (AVX2 machines) of the same loop.
            float[] expected256 = new float[n], dx256 = Compare.Randn(n, 34);
            Elementwise.BackwardRange<GeluErfOp>(dy, x, expected256, wide: false);
            Elementwise.BackwardRange<GeluErfOp>(dy, x, dx256, wide: false, accumulate: false);
            Assert.Equal(expected256, dx256);
        }
    }

    [Fact]
    public void LinearLayer_BackwardAfterZeroGrad_WritesDwThenAccumulates()
    {
        // ZeroGrad defers the clearing and the next backward pass writes dW instead of adding to zeros: whatever the
        // array held before (NaN here) must not leak, and a second pass before the next ZeroGrad must add.
        var layer = new LinearLayer(40, 70, new Rng(3));
        float[] x = Compare.Randn(10 * 40, 8), dy = Compare.Randn(10 * 70, 9);
        layer.Forward(x, Ctx);
        Array.Fill(layer.Weight.Grad, float.NaN);
        Array.Fill(layer.Bias!.Grad, float.NaN);
        layer.ZeroGrad();
        layer.Backward(dy);

        float[] dw = new float[70 * 40], db = new float[70];
        Linear.Backward(dy, x, layer.Weight.Data, new float[10 * 40], dw, db, 10, 40, 70);
        Assert.Equal(dw, layer.Weight.Grad);
        Assert.Equal(db, layer.Bias.Grad);

        layer.Backward(dy);
        Linear.Backward(dy, x, layer.Weight.Data, new float[10 * 40], dw, db, 10, 40, 70);
        Assert.Equal(dw, layer.Weight.Grad);
        Assert.Equal(db, layer.Bias.Grad);
    }

    [Fact]
    public void Parameter_ZeroGrad_ReadsAsZerosUntilWritten()
    {
        var p = new Parameter("w", [3, 4]);
        Array.Fill(p.Grad, 2f);
        p.ZeroGrad();
        Assert.All(p.Grad, g => Assert.Equal(0f, g));
        p.Grad[5] = 1f;   // a read after the clear returns the same, now live, array
        Assert.Equal(1f, p.Grad[5]);
    }

    [Fact]
    public void CausalSelfAttention_Gradients_MatchFiniteDifferences() =>
        GradCheck.Layer(new CausalSelfAttention(8, 2, new Rng(6)), Compare.Randn(10 * 8, 7), Ctx);

    [Theory]
    [InlineData(NormPlacement.PostLn)]
    [InlineData(NormPlacement.PreLn)]
    [InlineData(NormPlacement.PeriLn)]
    [InlineData(NormPlacement.DeepNorm)]
    [InlineData(NormPlacement.ReZero)]
    [InlineData(NormPlacement.None)]
    public void TransformerBlock_AnyPlacement_GradientsMatchFiniteDifferences(NormPlacement placement)
    {
        var block = new TransformerBlock(new BlockConfig { Channels = 8, Heads = 2, Hidden = 12, Placement = placement, DeepNormAlpha = 1.5, DeepNormBeta = 0.7 }, new Rng(8));
        if (placement == NormPlacement.ReZero)
        {
            // At α = 0 the sublayers receive no gradient; move α off zero to check them too.
            block.Parameters().Where(p => p.Name.StartsWith("rezero", StringComparison.Ordinal)).ToList().ForEach(p => p.Data[0] = 0.7f);
        }

        GradCheck.Layer(block, Compare.Randn(10 * 8, 9), Ctx);
    }

    [Theory]
    [InlineData(NormPlacement.PreLn)]
    [InlineData(NormPlacement.PostLn)]
    public void TransformerBlock_WithDropout_GradientsMatchFiniteDifferences(NormPlacement placement)
    {
        // The mask depends only on the seed and the step, so every re-evaluation sees the same mask.
        var block = new TransformerBlock(new BlockConfig { Channels = 8, Heads = 2, Hidden = 12, Placement = placement, Dropout = 0.3 }, new Rng(8));
        GradCheck.Layer(block, Compare.Randn(10 * 8, 9), new ForwardContext(2, 5, Training: true, Step: 3));
    }

    [Fact]
    public void TransformerBlock_Dropout_ChangesWithStepAndIsOffInEvaluation()
    {
        var config = new BlockConfig { Channels = 16, Heads = 2 };
        var plain = new TransformerBlock(config, new Rng(4));
        var dropped = new TransformerBlock(config with { Dropout = 0.5 }, new Rng(4));
        float[] x = Compare.Randn(2 * 6 * 16, 5);
        float[] Run(TransformerBlock b, bool training, int step) => (float[])b.Forward(x, new ForwardContext(2, 6, training, step)).Clone();
        // Same weights (the dropout seed is drawn after them), so evaluation mode matches the block without dropout.
        Assert.Equal(Run(plain, false, 0), Run(dropped, false, 0));
        Assert.Equal(Run(dropped, true, 1), Run(dropped, true, 1));
        Assert.NotEqual(Run(dropped, true, 1), Run(dropped, true, 2));
        Assert.NotEqual(Run(plain, true, 1), Run(dropped, true, 1));
    }

    [Fact]
    public void MoeFeedForward_Gradients_MatchFiniteDifferences()
    {
        // Capacity large enough that no token is dropped: a dropped token's routing is a discontinuity.
        var moe = new MoeFeedForward(6, experts: 3, topK: 2, Activation.Gelu, new Rng(10), hidden: 8, capacityFactor: 3, auxLossWeight: 0.5);
        GradCheck.Layer(moe, Compare.Randn(10 * 6, 11), Ctx);
    }

    [Fact]
    public void TransformerBlock_ParameterCount_Is12CSquaredPlus13C()
    {
        foreach (int c in new[] { 16, 64, 96 })
        {
            var block = new TransformerBlock(new BlockConfig { Channels = c, Heads = 4 }, new Rng(1));
            Assert.Equal(12L * c * c + 13L * c, block.ParameterCount);
            Assert.Equal(8L * c * c + 5L * c, block.Ffn.ParameterCount);
            Assert.Equal(4L * c * c + 4L * c, block.Attention.ParameterCount);
        }
    }

    [Fact]
    public void FeedForward_ForwardFlops_MatchFormula()
    {
        var ctx = new ForwardContext(4, 16);
        Assert.Equal(4L * 64 * 64 * 256, new FeedForward(64, Activation.Gelu, new Rng(1)).ForwardFlops(ctx));
        Assert.Equal(6L * 64 * 96 * 256, new FeedForward(96, Activation.SwiGlu, new Rng(1)).ForwardFlops(ctx));
        var attn = new CausalSelfAttention(64, 4, new Rng(1));
        Assert.Equal(8L * 64 * 64 * 64 + 4L * 4 * 16 * 16 * 64, attn.ForwardFlops(ctx));
    }

    [Fact]
    public void ReZeroBlock_AtInitialization_IsExactlyTheIdentity()
    {
        var block = new TransformerBlock(new BlockConfig { Channels = 16, Heads = 2, Placement = NormPlacement.ReZero }, new Rng(3));
        float[] x = Compare.Randn(2 * 7 * 16, 4, 3f);
        Assert.Equal(x, block.Forward(x, new ForwardContext(2, 7)));
    }

    [Fact]
    public void Layer_WrongInputLength_ThrowsNamingSizes()
    {
        var lin = new LinearLayer(4, 3, new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => lin.Forward(new float[10], new ForwardContext(3)));
        Assert.Contains("x has 10 elements but N·4 = 3·4 = 12 were expected", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new CausalSelfAttention(10, 4, new Rng(1)));
    }

    [Fact]
    public void Initializers_Xavier_HasTheGlorotVariance()
    {
        var w = new float[256 * 128];
        Initializers.Weight(w, 128, 256, InitScheme.Xavier, new Rng(2));
        double variance = w.Select(v => (double)v * v).Average();
        // U(−a, a) has variance a²/3 = 2/(in + out).
        Assert.Equal(2.0 / (128 + 256), variance, 4);
        Initializers.Weight(w, 128, 256, InitScheme.PyTorchDefault, new Rng(2), gain: 0.5);
        Assert.True(w.Max() <= 0.5 / Math.Sqrt(128) && w.Max() > 0.49 / Math.Sqrt(128));
    }
}
