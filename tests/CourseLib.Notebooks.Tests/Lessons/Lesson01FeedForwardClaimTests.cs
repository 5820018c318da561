namespace CourseLib.Notebooks.Tests.Lessons;

/// <summary>Runs the notebook once for all the claim tests of lesson 1.</summary>
public sealed class Lesson01Fixture
{
    /// <summary>The lesson, run to the end.</summary>
    public LessonRun Run { get; } = LessonRun.Of("01-feed-forward.dib");
}

/// <summary>The claims lesson 1 (feed-forward layers) states, asserted on the values its cells compute.</summary>
[Collection(nameof(Grading.ProcessConsole))]
public class Lesson01FeedForwardClaimTests(Lesson01Fixture fixture) : IClassFixture<Lesson01Fixture>
{
    private readonly LessonRun _run = fixture.Run;

    [Fact]
    public void PlainFfn_ComparedWithLibraryAndLibtorch_AgreesToRounding()
    {
        Assert.InRange(_run.Number(@"^plain vs library:\s+max difference (\S+)$"), 0, 1e-5);
        Assert.InRange(_run.Number(@"^plain vs libtorch:\s+max difference (\S+)$"), 0, 1e-5);
    }

    [Fact]
    public void Ffn_PermutedTokens_Commutes()
    {
        Assert.InRange(_run.Number(@"^max \|FFN\(P·x\) − P·FFN\(x\)\| = (\S+)$"), 0, 1e-6);
        Assert.Equal(1, _run.Number(@"^changing token 0 changed (\d+) of \d+ output rows$"));
    }

    [Fact]
    public void Ffn_InTransformerBlock_HoldsTwoThirdsOfWeights()
    {
        Assert.Equal(2.0 / 3, _run.Number(@"^FFN share of the weight matrices: .* = ([\d.]+) "), 6);
        Assert.InRange(_run.Number(@"^FFN share of all parameters \(with biases and norms\): ([\d.]+)$"), 2.0 / 3 - 0.002, 2.0 / 3);
    }

    [Fact]
    public void Ffn_FlopShare_IsTwoThirdsForShortSequencesAndLessAtT1024()
    {
        var m = _run.Line(@"^FFN share of forward FLOPs at T = 1: ([\d.]+); at T = 1024: ([\d.]+)$");
        Assert.InRange(LessonRun.Parse(m.Groups[1].Value), 2.0 / 3 - 0.002, 2.0 / 3);
        Assert.InRange(LessonRun.Parse(m.Groups[2].Value), 0.3, 0.6);
    }

    [Fact]
    public void ReluAfterW2_MakesOutputsNonNegative_AndTheStreamOnlyGrows()
    {
        var extra = _run.Line(@"^ReLU after W2 too:\s+([\d.]+) % of outputs negative, smallest output (\S+), stream entries that decreased: (\d+)$");
        Assert.Equal(0, LessonRun.Parse(extra.Groups[1].Value));
        Assert.True(LessonRun.Parse(extra.Groups[2].Value) >= 0);
        Assert.Equal(0, LessonRun.Parse(extra.Groups[3].Value));

        var written = _run.Line(@"^FFN as written:\s+([\d.]+) % of outputs negative, smallest output (\S+), stream entries that decreased: (\d+)$");
        Assert.InRange(LessonRun.Parse(written.Groups[1].Value), 30, 70);
        Assert.True(LessonRun.Parse(written.Groups[2].Value) < 0);
        Assert.True(LessonRun.Parse(written.Groups[3].Value) > 0);

        var means = _run.Line(@"^mean of the stream after \d+ layers, from (\S+): (\S+) as written, (\S+) with the extra ReLU$");
        double start = LessonRun.Parse(means.Groups[1].Value), asWritten = LessonRun.Parse(means.Groups[2].Value), withRelu = LessonRun.Parse(means.Groups[3].Value);
        Assert.True(withRelu > start + 0.5, $"the stream's mean should climb with the extra ReLU: {start} → {withRelu}");
        Assert.True(Math.Abs(asWritten - start) < 0.3, $"the stream's mean should stay near its start as written: {start} → {asWritten}");
    }

    [Fact]
    public void FfnBackward_ComparedWithFiniteDifferencesAndLibtorch_Matches()
    {
        var fd = _run.Line(@"^FFN backward vs finite differences, relative error: dx (\S+), dW₁ (\S+), db₁ (\S+), dW₂ (\S+), db₂ (\S+)$");
        for (int g = 1; g <= 5; g++)
        {
            Assert.InRange(LessonRun.Parse(fd.Groups[g].Value), 0, 2e-3);
        }

        Assert.InRange(_run.Number(@"^FFN backward vs libtorch autograd, max difference over all five gradients: (\S+)$"), 0, 1e-5);
    }

    [Fact]
    public void FfnBackward_UnitsInactiveForEveryToken_GetNoGradient()
    {
        // The text says such units exist in this batch and get exactly zero gradient; the count is what the cell found.
        var m = _run.Line(@"^hidden units with no gradient at all in this batch \(h ≤ 0 for all 4 tokens\): (\d+) of (\d+)$");
        Assert.Equal(12, LessonRun.Parse(m.Groups[2].Value));
        Assert.InRange(LessonRun.Parse(m.Groups[1].Value), 1, 11);
    }

    [Fact]
    public void SineFit_WiderHiddenLayer_FitsBetterThenLevelsOff()
    {
        var rows = _run.Lines(@"^width\s+(\d+): mean squared error against sin x = ([\d.]+)$")
            .Select(m => (Width: (int)LessonRun.Parse(m.Groups[1].Value), Mse: LessonRun.Parse(m.Groups[2].Value))).ToArray();
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128], rows.Select(r => r.Width));
        double[] narrow = rows.Where(r => r.Width <= 16).Select(r => r.Mse).ToArray();
        for (int i = 1; i < narrow.Length; i++)
        {
            Assert.True(narrow[i] < narrow[i - 1], $"MSE should fall from width to width up to 16: {string.Join(", ", narrow)}");
        }

        double[] wide = rows.Where(r => r.Width >= 16).Select(r => r.Mse).ToArray();
        Assert.True(wide.Max() < rows[0].Mse / 50, $"wide networks should fit far better than one unit: {string.Join(", ", rows)}");
        Assert.True(wide.Max() < 3 * wide.Min(), $"beyond 16 units the error should level off: {string.Join(", ", wide)}");
    }

    [Fact]
    public void TwoSpirals_WiderHiddenLayer_SeparatesTheArms()
    {
        var rows = _run.Lines(@"^width\s+(\d+): cross-entropy ([\d.]+), accuracy ([\d.]+) %$")
            .Select(m => (Width: (int)LessonRun.Parse(m.Groups[1].Value), Loss: LessonRun.Parse(m.Groups[2].Value), Accuracy: LessonRun.Parse(m.Groups[3].Value))).ToArray();
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128], rows.Select(r => r.Width));
        Assert.True(rows[0].Accuracy < 65, $"one unit cannot separate the spirals: {rows[0]}");
        Assert.True(rows[^1].Accuracy > 95, $"the widest network should separate them: {rows[^1]}");
        Assert.True(rows[^1].Loss < rows[0].Loss / 10, $"wider should fit better: {string.Join(", ", rows)}");
        for (int i = 1; i < rows.Length; i++)
        {
            Assert.True(rows[i].Loss < rows[i - 1].Loss, $"the loss should fall with every doubling of the width: {string.Join(", ", rows)}");
        }
    }

    [Fact]
    public void Exercise11_Unsolved_FallsBackOnTheLibrary()
    {
        Assert.Contains("Exercise 1.1 (FFN forward (ReLU MLP)) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Exercise12_Unsolved_FallsBackOnTheLibrary()
    {
        Assert.Contains("Exercise 1.2 (FFN backward (dx, dW₁, db₁, dW₂, db₂)) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
    }
}
