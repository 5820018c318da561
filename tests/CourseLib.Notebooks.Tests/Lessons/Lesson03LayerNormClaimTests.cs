namespace CourseLib.Notebooks.Tests.Lessons;

/// <summary>Runs the notebook once for all the claim tests of lesson 3.</summary>
public sealed class Lesson03Fixture
{
    /// <summary>The lesson, run to the end.</summary>
    public LessonRun Run { get; } = LessonRun.Of("03-layer-normalization.dib");
}

/// <summary>The claims lesson 3 (layer normalization) states, asserted on the values its cells compute.</summary>
[Collection(nameof(Grading.ProcessConsole))]
public class Lesson03LayerNormClaimTests(Lesson03Fixture fixture) : IClassFixture<Lesson03Fixture>
{
    private readonly LessonRun _run = fixture.Run;

    [Fact]
    public void LayerNormForward_ComparedWithKernelAndLibtorch_AgreesToRounding()
    {
        Assert.InRange(_run.Number(@"^LayerNormForward vs library kernel: max difference (\S+)$"), 0, 1e-5);
        Assert.InRange(_run.Number(@"^LayerNormForward vs libtorch:\s+max difference (\S+)$"), 0, 1e-5);
    }

    [Fact]
    public void LayerNorm_ShiftAndScale_Invariant_RmsNormOnlyScale()
    {
        var ln = _run.Line(@"^LayerNorm: max \|LN\(x \+ 3\) − LN\(x\)\| = (\S+),  max \|LN\(10x\) − LN\(x\)\| = (\S+)$");
        Assert.InRange(LessonRun.Parse(ln.Groups[1].Value), 0, 1e-4);
        Assert.InRange(LessonRun.Parse(ln.Groups[2].Value), 0, 1e-4);
        var rms = _run.Line(@"^RMSNorm:\s+max \|RMS\(x \+ 3\) − RMS\(x\)\| = (\S+),  max \|RMS\(10x\) − RMS\(x\)\| = (\S+)$");
        Assert.True(LessonRun.Parse(rms.Groups[1].Value) > 0.5, "a shift of 3 should move RMSNorm's output visibly");
        Assert.InRange(LessonRun.Parse(rms.Groups[2].Value), 0, 1e-4);
    }

    [Fact]
    public void BatchNorm_DependsOnBatchCompanionsAndHasTrainEvalGap_LayerNormDoesNot()
    {
        var rows = _run.Lines(@"^batch\s+(\d+): token's output spread BatchNorm ([\d.]+), LayerNorm ([\d.]+);  BatchNorm train−eval gap ([\d.]+)$")
            .Select(m => (Batch: LessonRun.Parse(m.Groups[1].Value), Bn: LessonRun.Parse(m.Groups[2].Value), Ln: LessonRun.Parse(m.Groups[3].Value), Gap: LessonRun.Parse(m.Groups[4].Value)))
            .ToArray();
        Assert.Equal(8, rows.Length);
        Assert.All(rows, r => Assert.Equal(0, r.Ln));
        Assert.All(rows, r => Assert.True(r.Bn > 0.01 && r.Gap > 0.01, $"BatchNorm should depend on the batch at every size: {r}"));
        Assert.True(rows[0].Bn > 3 * rows[^1].Bn, "the dependence should be largest at small batches");
        Assert.True(rows[0].Gap > 3 * rows[^1].Gap, "the train/eval gap should be largest at small batches");
    }

    [Fact]
    public void RmsNorm_WithLargeOffset_ShrinksTheSpreadWhileLayerNormKeepsIt()
    {
        var m = _run.Line(@"^offset (\S+): spread within a row after LayerNorm ([\d.]+), after RMSNorm ([\d.]+)$");
        double offset = LessonRun.Parse(m.Groups[1].Value);
        Assert.Equal(1, LessonRun.Parse(m.Groups[2].Value), 2);
        // 1/√(1 + m²) for unit-variance rows with a shared offset m.
        Assert.Equal(1 / Math.Sqrt(1 + offset * offset), LessonRun.Parse(m.Groups[3].Value), 1);
        Assert.True(LessonRun.Parse(m.Groups[3].Value) < 0.2);
    }

    [Fact]
    public void Eps_ConstantRow_NaNWithoutFiniteWith()
    {
        Assert.Contains("constant row, ε = 0:    [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN]", _run.Stdout, StringComparison.Ordinal);
        Assert.Contains("constant row, ε = 1e-5: [0, 0, 0, 0, 0, 0, 0, 0]", _run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void FloatSum_SixteenLanes_MoreAccurateThanOneAccumulator()
    {
        var m = _run.Line(@"^relative error of the sum of [\d,]+ values: one float accumulator (\S+), 16 lanes (\S+)$");
        Assert.True(LessonRun.Parse(m.Groups[2].Value) < LessonRun.Parse(m.Groups[1].Value));
    }

    [Fact]
    public void Variance_LargeMean_TwoPassAccurateOnePassNot()
    {
        var rows = _run.Lines(@"^mean\s+([\d,]+): variance one-pass\s+(\S+), two-pass (\S+), library kernel (\S+), exact (\S+)$")
            .Select(m => (Mean: LessonRun.Parse(m.Groups[1].Value), One: LessonRun.Parse(m.Groups[2].Value), Two: LessonRun.Parse(m.Groups[3].Value),
                Kernel: LessonRun.Parse(m.Groups[4].Value), Exact: LessonRun.Parse(m.Groups[5].Value)))
            .ToArray();
        Assert.Equal(6, rows.Length);
        Assert.All(rows, r => Assert.True(Math.Abs(r.Two - r.Exact) / r.Exact < 1e-3, $"two-pass should be accurate: {r}"));
        Assert.All(rows, r => Assert.True(Math.Abs(r.Kernel - r.Exact) / r.Exact < 1e-3, $"the kernel should be accurate: {r}"));
        Assert.All(rows.Where(r => r.Mean >= 1000), r => Assert.True(Math.Abs(r.One - r.Exact) / r.Exact > 0.1, $"one-pass should be wrong in the first digit: {r}"));
        Assert.True(Math.Abs(rows[0].One - rows[0].Exact) / rows[0].Exact < 1e-3, "at a small mean one-pass is fine");
    }

    [Fact]
    public void LayerNormBackward_ComparedWithFiniteDifferencesAndLibtorch_Matches()
    {
        var fd = _run.Line(@"^vs finite differences, relative error: dx (\S+), dγ (\S+), dβ (\S+)$");
        for (int g = 1; g <= 3; g++)
        {
            Assert.InRange(LessonRun.Parse(fd.Groups[g].Value), 0, 2e-3);
        }

        Assert.InRange(_run.Number(@"^vs libtorch autograd, max difference over dx, dγ, dβ: (\S+)$"), 0, 1e-5);
    }

    [Fact]
    public void Timing_Printed_NotAsserted()
    {
        // Timings depend on the machine and its load; the lesson only promises to print them.
        _run.Line(@"^on this machine, right now: the kernel ran \S+× as fast as the plain loop \(\S+× on one thread\) and took \S+× libtorch's time$");
    }

    [Fact]
    public void Exercises31And32_Unsolved_FallBackOnTheLibrary()
    {
        Assert.Contains("Exercise 3.1 (LayerNorm forward) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exercise 3.2 (LayerNorm backward (dx, dγ, dβ)) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
    }
}
