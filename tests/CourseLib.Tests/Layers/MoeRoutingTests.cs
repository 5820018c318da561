using CourseLib.Init;
using CourseLib.Kernels;
using CourseLib.Layers;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Layers;

public class MoeRoutingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TopK_SameRoutingAsMoeFeedForward_ReproducesItsOutputLoadAndAuxLoss(int k)
    {
        const int n = 40, c = 8, e = 5;
        // Capacity factor E: no expert can overflow, so the layer's output is exactly Σ gates·FFN_e(x).
        var moe = new MoeFeedForward(c, e, k, Activation.Gelu, new Rng(7), hidden: 12, capacityFactor: e, auxLossWeight: 0.3);
        float[] x = Compare.Randn(n * c, 8);
        float[] y = moe.Forward(x, new ForwardContext(n)).ToArray();
        Assert.Equal(0, moe.DroppedTokens);

        var probs = new float[n * e];
        Softmax.Forward(moe.Router.LastOutput!, probs, n, e);
        var experts = new int[n * k];
        var gates = new float[n * k];
        MoeRouting.TopK(probs, experts, gates, n, e, k);

        var expected = new float[n * c];
        for (int r = 0; r < n; r++)
        {
            for (int s = 0; s < k; s++)
            {
                float[] ye = moe.Experts[experts[r * k + s]].Forward(x.AsSpan(r * c, c).ToArray(), new ForwardContext(1));
                for (int j = 0; j < c; j++)
                {
                    expected[r * c + j] += gates[r * k + s] * ye[j];
                }
            }
        }

        Compare.Close(y, expected, 1e-5, 1e-6, "MoE output rebuilt from MoeRouting.TopK");
        int[] load = Enumerable.Range(0, e).Select(j => experts.Count(a => a == j)).ToArray();
        Assert.Equal(load, moe.ExpertLoad);
        Assert.Equal(moe.AuxLoss, MoeRouting.LoadBalancingLoss(probs, experts, n, e, k, 0.3), 6);
    }

    [Fact]
    public void TopK_Ties_GoToTheLowerExpertHighestFirst()
    {
        float[] probs = [0.25f, 0.25f, 0.25f, 0.25f, 0.1f, 0.4f, 0.1f, 0.4f];
        var experts = new int[4];
        var gates = new float[4];
        MoeRouting.TopK(probs, experts, gates, 2, 4, 2);
        Assert.Equal([0, 1, 1, 3], experts);
        Assert.Equal([0.25f, 0.25f, 0.4f, 0.4f], gates);
    }

    [Fact]
    public void LoadBalancingLoss_UniformIsAlpha_CollapsedIsEAlpha()
    {
        const int n = 8, e = 4;
        float[] uniform = Enumerable.Repeat(0.25f, n * e).ToArray();
        int[] roundRobin = Enumerable.Range(0, n).Select(r => r % e).ToArray();
        Assert.Equal(0.01, MoeRouting.LoadBalancingLoss(uniform, roundRobin, n, e, 1, 0.01), 9);
        float[] onehot = Enumerable.Range(0, n * e).Select(i => i % e == 0 ? 1f : 0f).ToArray();
        Assert.Equal(0.04, MoeRouting.LoadBalancingLoss(onehot, new int[n], n, e, 1, 0.01), 9);
    }

    [Fact]
    public void TopK_WrongSizes_ThrowNamingTheArgument()
    {
        var e1 = Assert.Throws<ArgumentException>(() => MoeRouting.TopK(new float[7], new int[2], new float[2], 2, 4, 1));
        Assert.Equal("probs", e1.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => MoeRouting.TopK(new float[8], new int[3], new float[2], 2, 4, 1));
        Assert.Equal("experts", e2.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => MoeRouting.TopK(new float[8], new int[10], new float[10], 2, 4, 5));
        var e3 = Assert.Throws<ArgumentException>(() => MoeRouting.LoadBalancingLoss(new float[8], new int[] { 0, 4 }, 2, 4, 1, 0.01));
        Assert.Equal("assignment", e3.ParamName);
    }
}
