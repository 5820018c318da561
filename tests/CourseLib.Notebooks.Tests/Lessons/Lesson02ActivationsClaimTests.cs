namespace CourseLib.Notebooks.Tests.Lessons;

/// <summary>Runs the notebook once for all the claim tests of lesson 2.</summary>
public sealed class Lesson02Fixture
{
    /// <summary>The lesson, run to the end.</summary>
    public LessonRun Run { get; } = LessonRun.Of("02-activations.dib");
}

/// <summary>The claims lesson 2 (activations) states, asserted on the values its cells compute.</summary>
[Collection(nameof(Grading.ProcessConsole))]
public class Lesson02ActivationsClaimTests(Lesson02Fixture fixture) : IClassFixture<Lesson02Fixture>
{
    private readonly LessonRun _run = fixture.Run;

    private (double Train, double Eval) Variant(string name)
    {
        var m = _run.Line(@"^" + name + @"\s*: FFN weights 36,864, model parameters [\d,]+, train loss \(last 30 steps\) ([\d.]+), eval loss ([\d.]+)$");
        return (LessonRun.Parse(m.Groups[1].Value), LessonRun.Parse(m.Groups[2].Value));
    }

    private (double Relu, double SwiGlu) SeedNoise()
    {
        var m = _run.Line(@"^seed-to-seed difference: ReLU ([\d.]+), SwiGLU ([\d.]+)$");
        return (LessonRun.Parse(m.Groups[1].Value), LessonRun.Parse(m.Groups[2].Value));
    }

    [Fact]
    public void PlainActivations_ComparedWithLibraryAndLibtorch_AgreeToRounding()
    {
        var rows = _run.Lines(@"^(ReLU|GELU|GELU-tanh|SiLU)\s+plain vs library (\S+), plain vs libtorch (\S+)$");
        Assert.Equal(4, rows.Count);
        var slopes = _run.Lines(@"^(ReLU′|GELU′|SiLU′)\s+plain vs library (\S+), plain vs libtorch autograd (\S+)$");
        Assert.Equal(3, slopes.Count);
        Assert.All(rows.Concat(slopes), m =>
        {
            Assert.InRange(LessonRun.Parse(m.Groups[2].Value), 0, 1e-5);
            Assert.InRange(LessonRun.Parse(m.Groups[3].Value), 0, 1e-5);
        });
    }

    [Fact]
    public void GeluMinimum_IsAboutMinus0170_AtMinus0752()
    {
        var m = _run.Line(@"^GELU minimum: (\S+) at x = (\S+)$");
        Assert.Equal(-0.170, LessonRun.Parse(m.Groups[1].Value), 0.0005);
        Assert.Equal(-0.752, LessonRun.Parse(m.Groups[2].Value), 0.001);
    }

    [Fact]
    public void SiluMinimum_IsAboutMinus0278_AtMinus1278()
    {
        var m = _run.Line(@"^SiLU minimum: (\S+) at x = (\S+)$");
        Assert.Equal(-0.278, LessonRun.Parse(m.Groups[1].Value), 0.0005);
        Assert.Equal(-1.278, LessonRun.Parse(m.Groups[2].Value), 0.001);
    }

    [Fact]
    public void GeluTanhApproximation_DiffersByAbout4Point7e4()
    {
        var m = _run.Line(@"^max \|GELU − GELU-tanh\| on \[−10, 10\]: (\S+) at x = (\S+) \(library kernels in float: (\S+)\)$");
        Assert.InRange(LessonRun.Parse(m.Groups[1].Value), 4.65e-4, 4.75e-4);
        Assert.InRange(LessonRun.Parse(m.Groups[3].Value), 4.6e-4, 4.8e-4);
    }

    [Fact]
    public void GatedPlain_ComparedWithKernelAndLibtorch_AgreesToRounding()
    {
        var rows = _run.Lines(@"^(Glu|ReGlu|GeGlu|SwiGlu)\s+plain vs library (\S+), plain vs libtorch (\S+)$");
        Assert.Equal(4, rows.Count);
        Assert.All(rows, m =>
        {
            Assert.InRange(LessonRun.Parse(m.Groups[2].Value), 0, 1e-5);
            Assert.InRange(LessonRun.Parse(m.Groups[3].Value), 0, 1e-5);
        });
    }

    [Fact]
    public void GatedFfn_AtEightThirdsC_HasThePlainFfnsParametersAndFlops()
    {
        var rows = _run.Lines(@"^(\w+)\s+C = 768: hidden H = (\d+), up-projection \[(\d+), 768\], parameters ([\d,]+), forward FLOPs per token ([\d,]+)$");
        Assert.Equal(7, rows.Count);
        Assert.All(rows, m =>
        {
            bool gated = m.Groups[1].Value.Contains("Glu", StringComparison.Ordinal);
            Assert.Equal(gated ? 2048 : 3072, LessonRun.Parse(m.Groups[2].Value));
            Assert.Equal(gated ? 4096 : 3072, LessonRun.Parse(m.Groups[3].Value));
            Assert.Equal(8.0 * 768 * 768, LessonRun.Parse(m.Groups[4].Value));
            Assert.Equal(2 * 8.0 * 768 * 768, LessonRun.Parse(m.Groups[5].Value));
        });
        Assert.Contains("all seven FFNs have the same parameter count: 4,718,592 = 8·768²", _run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void GegluAndSwiglu_BeatRelu_ByMoreThanSeedNoise()
    {
        double relu = Variant("Relu").Eval;
        var (reluNoise, swigluNoise) = SeedNoise();
        double noise = Math.Max(reluNoise, swigluNoise);
        Assert.True(noise > 0, "two seeds should differ");
        Assert.True(Variant("GeGlu").Eval < relu - noise, $"GEGLU {Variant("GeGlu").Eval} vs ReLU {relu}, noise {noise}");
        Assert.True(Variant("SwiGlu").Eval < relu - noise, $"SwiGLU {Variant("SwiGlu").Eval} vs ReLU {relu}, noise {noise}");
    }

    [Fact]
    public void SigmoidGlu_DoesNotBeatRelu()
    {
        Assert.True(Variant("Glu").Eval >= Variant("Relu").Eval - SeedNoise().Relu, "the text says GLU does not beat ReLU here");
    }

    [Fact]
    public void Gelu_LandsAmongTheGatedUnits_SiluWithRelu()
    {
        // The text's "not reproduced": GELU within seed noise of SwiGLU/GEGLU, SiLU within seed noise of ReLU.
        double noise = SeedNoise().Relu;
        Assert.True(Math.Abs(Variant("Gelu").Eval - Variant("SwiGlu").Eval) < noise);
        Assert.True(Math.Abs(Variant("Gelu").Eval - Variant("GeGlu").Eval) < noise);
        Assert.True(Math.Abs(Variant("Silu").Eval - Variant("Relu").Eval) < noise);
        Assert.True(Variant("Gelu").Eval < Variant("Relu").Eval - noise, "GELU should be clearly better than ReLU in our run");
    }

    [Fact]
    public void SeedNoise_IsOneToFourHundredths()
    {
        var (relu, swiglu) = SeedNoise();
        Assert.InRange(relu, 0.005, 0.05);
        Assert.InRange(swiglu, 0.005, 0.05);
    }

    [Fact]
    public void ActivationChoice_SpreadExceedsSeedNoise()
    {
        double[] evals = new[] { "Relu", "Gelu", "Silu", "Glu", "ReGlu", "GeGlu", "SwiGlu" }.Select(v => Variant(v).Eval).ToArray();
        var (reluNoise, swigluNoise) = SeedNoise();
        Assert.True(evals.Max() - evals.Min() > 2 * Math.Max(reluNoise, swigluNoise), $"spread {evals.Max() - evals.Min()} vs noise {Math.Max(reluNoise, swigluNoise)}");
    }

    [Fact]
    public void DeadRelu_NoneAtInit_LargeLearningRateKillsUnits()
    {
        var init = _run.Line(@"^at initialization: dead in the first training batch ([\d.]+) %; never firing on 2,048 tokens: (\d+) and (\d+) of 192 units \(blocks 0 and 1\); positive pre-activations ([\d.]+) %$");
        Assert.Equal(0, LessonRun.Parse(init.Groups[1].Value));
        Assert.Equal(0, LessonRun.Parse(init.Groups[2].Value));
        Assert.Equal(0, LessonRun.Parse(init.Groups[3].Value));
        Assert.InRange(LessonRun.Parse(init.Groups[4].Value), 35, 65); // "each fires for roughly half the tokens"

        var slow = _run.Line(@"^peak lr 1e-2: dead per batch at the end ([\d.]+) % \(max ([\d.]+) %\); never firing after training: (\d+) and (\d+) of 192; eval loss ([\d.]+)$");
        Assert.InRange(LessonRun.Parse(slow.Groups[2].Value), 0, 5);
        Assert.Equal(0, LessonRun.Parse(slow.Groups[3].Value) + LessonRun.Parse(slow.Groups[4].Value));

        var fast = _run.Line(@"^peak lr 3e-2: dead per batch at the end ([\d.]+) % \(max ([\d.]+) %\); never firing after training: (\d+) and (\d+) of 192; eval loss ([\d.]+)$");
        Assert.True(LessonRun.Parse(fast.Groups[2].Value) > 10, "the per-batch dead fraction should climb above 10 % at peak lr 3e-2");
        Assert.True(LessonRun.Parse(fast.Groups[4].Value) >= 3, "several units of the second block should never fire after training");

        // The caveat in the text: the faster run still reached the lower loss.
        Assert.True(LessonRun.Parse(fast.Groups[5].Value) < LessonRun.Parse(slow.Groups[5].Value));
    }

    [Fact]
    public void Exercises21And22_Unsolved_FallBackOnTheLibrary()
    {
        Assert.Contains("Exercise 2.1 (GELU (exact) forward) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exercise 2.2 (GELU derivative) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
    }
}
