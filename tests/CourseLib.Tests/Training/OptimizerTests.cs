using CourseLib.Layers;
using CourseLib.Training;

namespace CourseLib.Tests.Training;

public class OptimizerTests
{
    private sealed class Weights : Module
    {
        public Weights(float[] values, bool decay = true)
        {
            P = AddParameter("w", [values.Length], decay);
            values.CopyTo(P.Data, 0);
        }

        public Parameter P { get; }
    }

    [Fact]
    public void Adam_FirstStep_MovesEachWeightByLrTimesSignOfGradient()
    {
        var m = new Weights([1f, -2f, 3f]);
        new float[] { 0.5f, -4f, 1e-3f }.CopyTo(m.P.Grad, 0);
        var adam = new Adam(m, learningRate: 0.1, epsilon: 1e-12);
        adam.Step();
        // After bias correction m̂ = g and v̂ = g², so the first step is lr·g/|g|.
        Assert.Equal(new[] { 0.9f, -1.9f, 2.9f }, m.P.Data.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void AdamW_DecoupledDecay_ShrinksWeightsWithoutGradient()
    {
        var m = new Weights([2f]);
        var w = Adam.W(m, learningRate: 0.1, weightDecay: 0.5);
        w.Step();
        // g = 0 ⇒ m = v = 0 and the step is θ(1 − lr·λ) = 2·0.95.
        Assert.Equal(1.9f, m.P.Data[0], 6);
        var plain = new Weights([2f]);
        var adamL2 = new Adam(plain, 0.1, weightDecay: 0.5);
        adamL2.Step();
        // L2 in Adam: g = λθ = 1, normalised to a full lr step.
        Assert.Equal(1.9f, plain.P.Data[0], 5);
        Assert.Equal("AdamW", w.Kind);
        Assert.Equal("Adam", adamL2.Kind);
    }

    [Fact]
    public void Sgd_Momentum_AccumulatesVelocityAsPyTorch()
    {
        var m = new Weights([0f]);
        var sgd = new Sgd(m, learningRate: 1, momentum: 0.9);
        for (int i = 0; i < 3; i++)
        {
            m.P.Grad[0] = 1f;
            sgd.Step();
        }

        // b = 1, 1.9, 2.71 ⇒ θ = −(1 + 1.9 + 2.71).
        Assert.Equal(-5.61f, m.P.Data[0], 5);
    }

    [Fact]
    public void Optimizer_NonDecayParameter_IsNotDecayed()
    {
        var m = new Weights([2f], decay: false);
        Adam.W(m, 0.1, weightDecay: 0.5).Step();
        Assert.Equal(2f, m.P.Data[0]);
    }

    [Fact]
    public void ClipGlobalNorm_AboveMax_ScalesToMaxAndReturnsOriginalNorm()
    {
        var m = new Weights([0f, 0f]);
        m.P.Grad[0] = 3f;
        m.P.Grad[1] = 4f;
        double norm = GradientClipping.ClipGlobalNorm(m.Parameters(), 1.0);
        Assert.Equal(5.0, norm, 6);
        Assert.Equal(1.0, GradientClipping.GlobalNorm(m.Parameters()), 5);
        Assert.Equal(0.6f, m.P.Grad[0], 5);
    }

    [Fact]
    public void Schedules_KeyPoints_MatchTheirFormulas()
    {
        Assert.Equal(0.5, new ConstantSchedule(0.5).At(1000));
        var warm = new LinearWarmupSchedule(1.0, 100);
        Assert.Equal(0.01, warm.At(0), 12);
        Assert.Equal(1.0, warm.At(99), 12);
        Assert.Equal(1.0, warm.At(5000), 12);
        var cos = new WarmupCosineSchedule(1.0, 10, 110, Min: 0.1);
        Assert.Equal(1.0, cos.At(10), 12);
        Assert.Equal(0.55, cos.At(60), 12);
        Assert.Equal(0.1, cos.At(110), 12);
        Assert.True(cos.At(30) > cos.At(31));
        var inv = new InverseSqrtSchedule(1.0, 100);
        Assert.Equal(1.0, inv.At(99), 12);
        Assert.Equal(0.5, inv.At(399), 12);
        Assert.Equal(0.5, inv.At(49), 12);
    }

    [Fact]
    public void Adam_BadBeta2_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(new Weights([1f]), 0.1, beta2: 1.0));
        Assert.Equal("beta2", e.ParamName);
    }
}
