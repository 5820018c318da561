using CourseLib.Init;
using CourseLib.Models;

namespace CourseLib.Tests.Models;

public class TokenSamplerTests
{
    [Fact]
    public void Probabilities_Temperature_MatchSoftmaxOfScaledLogitsInDouble()
    {
        float[] logits = [1.5f, -0.25f, 3f, 0f];
        foreach (float t in new[] { 0.3f, 1f, 2.5f })
        {
            var p = new double[4];
            TokenSampler.Probabilities(logits, t, p);
            double[] e = logits.Select(z => Math.Exp(z / (double)t)).ToArray();
            double s = e.Sum();
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(e[i] / s, p[i], 12);
            }
        }
    }

    [Fact]
    public void Probabilities_HugeAndTinyLogits_FiniteAndNormalised()
    {
        // exp(1000) overflows even in double; exp(-1000) underflows to 0 and would give 0/0.
        foreach (float[] logits in new[] { new[] { 1000f, 999f, 990f }, new[] { -1000f, -1001f, -1010f } })
        {
            var p = new double[3];
            TokenSampler.Probabilities(logits, 0.5f, p);
            Assert.All(p, v => Assert.True(double.IsFinite(v)));
            Assert.Equal(1.0, p.Sum(), 12);
            Assert.Equal(1 / (1 + Math.Exp(-2) + Math.Exp(-20)), p[0], 12);
        }
    }

    [Fact]
    public void Sample_U_PicksTheTokenWhoseCdfIntervalHoldsU()
    {
        // p = [0.25, 0.25, 0.5] (logits ln 1, ln 1, ln 2): intervals [0, .25), [.25, .5), [.5, 1).
        float[] logits = [0f, 0f, MathF.Log(2f)];
        Assert.Equal(0, TokenSampler.Sample(logits, 1f, 0.0));
        Assert.Equal(0, TokenSampler.Sample(logits, 1f, 0.2499));
        Assert.Equal(1, TokenSampler.Sample(logits, 1f, 0.2501));
        Assert.Equal(2, TokenSampler.Sample(logits, 1f, 0.5001));
        Assert.Equal(2, TokenSampler.Sample(logits, 1f, 0.999999));
    }

    [Fact]
    public void Sample_LowTemperature_GreedyHighTemperature_Uniform()
    {
        float[] logits = [0.1f, 0.4f, 0.2f];
        // u = 0 would pick token 0: exp(−300) is tiny but positive in double, and u < cdf holds for any positive cdf.
        Assert.Equal(1, TokenSampler.Sample(logits, 0.001f, 1e-9));
        Assert.Equal(1, TokenSampler.Sample(logits, 0.001f, 0.999));
        // At τ = 1000 the three intervals are each ≈ 1/3 wide.
        Assert.Equal(0, TokenSampler.Sample(logits, 1000f, 0.33));
        Assert.Equal(1, TokenSampler.Sample(logits, 1000f, 0.34));
        Assert.Equal(2, TokenSampler.Sample(logits, 1000f, 0.67));
    }

    [Fact]
    public void Sample_ManyDraws_FrequenciesMatchProbabilities()
    {
        float[] logits = [0.5f, -1f, 1.2f, 0f, 0.3f];
        var p = new double[5];
        TokenSampler.Probabilities(logits, 0.7f, p);
        var counts = new int[5];
        var rng = new Rng(11);
        const int draws = 40_000;
        for (int i = 0; i < draws; i++)
        {
            counts[TokenSampler.Sample(logits, 0.7f, rng.NextDouble())]++;
        }

        // Binomial standard error ≤ 0.0025 at 40k draws; 0.01 is four of them.
        for (int i = 0; i < 5; i++)
        {
            Assert.InRange((double)counts[i] / draws, p[i] - 0.01, p[i] + 0.01);
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Sample_BadTemperature_ThrowsNamingIt(float temperature)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TokenSampler.Sample([1f, 2f], temperature, 0.5));
        Assert.Equal("temperature", e.ParamName);
    }

    [Fact]
    public void Sample_BadInputs_ThrowNamingTheArgument()
    {
        Assert.Equal("u", Assert.Throws<ArgumentOutOfRangeException>(() => TokenSampler.Sample([1f], 1f, 1.0)).ParamName);
        Assert.Equal("u", Assert.Throws<ArgumentOutOfRangeException>(() => TokenSampler.Sample([1f], 1f, -0.1)).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => TokenSampler.Sample([], 1f, 0.5)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => TokenSampler.Sample([1f, float.NaN], 1f, 0.5));
        Assert.Contains("logits[1]", e.Message, StringComparison.Ordinal);
        Assert.Equal("probabilities", Assert.Throws<ArgumentException>(() => TokenSampler.Probabilities([1f, 2f], 1f, new double[3])).ParamName);
    }

    [Fact]
    public void Generate_TemperatureOne_SameTokensAsTinyLmGenerate()
    {
        var model = new TinyLm(new LmConfig { Vocab = 9, Context = 5, Channels = 8, Heads = 2, Layers = 1, Seed = 5 });
        int[] library = model.Generate([1, 2], 20, new Rng(3));
        int[] sampler = TokenSampler.Generate(model, [1, 2], 20, 1f, new Rng(3));
        Assert.Equal(library, sampler);
    }

    [Fact]
    public void Generate_LowTemperature_SameTokensAsGreedy()
    {
        var model = new TinyLm(new LmConfig { Vocab = 9, Context = 5, Channels = 8, Heads = 2, Layers = 1, Seed = 6 });
        int[] greedy = model.Generate([4], 12, new Rng(1), greedy: true);
        int[] cold = TokenSampler.Generate(model, [4], 12, 1e-4f, new Rng(2));
        Assert.Equal(greedy, cold);
    }
}
