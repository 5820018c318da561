using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Training;
using Xunit.Abstractions;

namespace CourseLib.Tests.Reproductions;

/// <summary>
/// Reproductions 4 and 6: how norm placement shapes gradients and updates at initialization
/// (Xiong et al. 2020, "On Layer Normalization in the Transformer Architecture", §3 and Fig. 3;
/// Liu et al. 2020, "Understanding the Difficulty of Training Transformers", §4 amplification).
/// </summary>
[Collection(SerialTrainingRuns.Name)]
public class DepthReproductions(ITestOutputHelper output)
{
    // The setting of the issue: Xavier init, copy task (8 symbols, vocabulary 14), C = 64, 4 heads, FFN 256.
    internal static LmConfig CopyModel(int layers, NormPlacement placement, int seed = 1) => new()
    {
        Vocab = 14, Context = 16, Channels = 64, Heads = 4, Hidden = 256, Layers = layers, Activation = Activation.Relu,
        Placement = placement, Init = InitScheme.Xavier, Seed = seed,
    };

    private static Batch CopyBatch(int seed = 7) => new SequenceTask(SequenceTaskKind.Copy, 8, 14, seed).Next(32);

    /// <summary>‖∂L/∂θ‖ of the last block over that of the first, at initialization.</summary>
    private static double LastOverFirstGradient(int layers, NormPlacement placement)
    {
        var model = new TinyLm(CopyModel(layers, placement));
        model.ZeroGrad();
        model.Forward(CopyBatch());
        model.Backward();
        double Norm(TransformerBlock b) => GradientClipping.GlobalNorm(b.Parameters());
        return Norm(model.Blocks[^1]) / Norm(model.Blocks[0]);
    }

    [Fact]
    public void Repro4_Xiong2020_PostLnGradientsGrowTowardTheTop_PreLnDoNot()
    {
        int[] depths = [6, 12, 24];
        double[] post = depths.Select(d => LastOverFirstGradient(d, NormPlacement.PostLn)).ToArray();
        double[] pre = depths.Select(d => LastOverFirstGradient(d, NormPlacement.PreLn)).ToArray();
        output.WriteLine($"last/first block gradient norm at {string.Join(" / ", depths)} layers: " +
                         $"Post-LN {string.Join(" / ", post.Select(v => v.ToString("F2")))}, Pre-LN {string.Join(" / ", pre.Select(v => v.ToString("F2")))}");
        Assert.True(post[0] < post[1] && post[1] < post[2], "Post-LN's ratio should rise with depth");
        Assert.True(post[2] > 2, $"Post-LN's ratio at 24 layers is {post[2]:F2}, expected > 2");
        Assert.All(pre, r => Assert.True(r < 1, $"Pre-LN's ratio {r:F2} should stay below 1"));
    }

    /// <summary>RMS change of the logits after one Adam step at learning rate 1e-4, on a fixed batch.</summary>
    private static double OutputChange(int layers, NormPlacement placement)
    {
        var model = new TinyLm(CopyModel(layers, placement));
        Batch batch = CopyBatch();
        model.Forward(batch);
        float[] before = (float[])model.Output.Clone();
        var adam = new Adam(model, 1e-4, 0.9, 0.98);
        model.ZeroGrad();
        model.Forward(batch);
        model.Backward();
        adam.Step();
        model.Forward(batch);
        float[] after = model.Output;
        double s = 0;
        for (int i = 0; i < before.Length; i++)
        {
            double d = (double)after[i] - before[i];
            s += d * d;
        }

        return Math.Sqrt(s / before.Length);
    }

    [Fact]
    public void Repro6_Liu2020_PostLnAmplifiesUpdates_DeepNormDampsThem()
    {
        int[] depths = [2, 4, 8, 16];
        var change = new Dictionary<NormPlacement, double[]>();
        foreach (var p in new[] { NormPlacement.PostLn, NormPlacement.PreLn, NormPlacement.DeepNorm })
        {
            change[p] = depths.Select(d => OutputChange(d, p)).ToArray();
            output.WriteLine($"{p,-8} output change after one Adam step at {string.Join("/", depths)} layers: {string.Join(" ", change[p].Select(v => v.ToString("E2")))}");
        }

        double[] post = change[NormPlacement.PostLn], pre = change[NormPlacement.PreLn], deep = change[NormPlacement.DeepNorm];
        Assert.True(post[^1] >= 2 * pre[^1], $"at 16 layers Post-LN {post[^1]:E2} should be ≥ 2× Pre-LN {pre[^1]:E2}");
        Assert.True(post[^1] > 8 * post[0], $"Post-LN should grow > 8× from 2 to 16 layers: {post[0]:E2} → {post[^1]:E2}");
        for (int i = 0; i < depths.Length; i++)
        {
            Assert.True(deep[i] < pre[i], $"at {depths[i]} layers DeepNorm {deep[i]:E2} should be below Pre-LN {pre[i]:E2}");
        }
    }
}
