namespace CourseLib.Notebooks.Tests.Lessons;

/// <summary>Runs the notebook once for all the claim tests of lesson 4.</summary>
public sealed class Lesson04Fixture
{
    /// <summary>The lesson, run to the end.</summary>
    public LessonRun Run { get; } = LessonRun.Of("04-residual-learning.dib");
}

/// <summary>The claims lesson 4 (residual learning) states, asserted on the values its cells compute.</summary>
[Collection(nameof(Grading.ProcessConsole))]
public class Lesson04ResidualClaimTests(Lesson04Fixture fixture) : IClassFixture<Lesson04Fixture>
{
    private static readonly double Chance = Math.Log(2);
    private readonly LessonRun _run = fixture.Run;

    private double N(string pattern, int group = 1) => LessonRun.Parse(_run.Line(pattern).Groups[group].Value);

    [Fact]
    public void NotebookForward_ComparedWithLibraryAndLibtorch_AgreesToRounding()
    {
        Assert.InRange(_run.Number(@"^notebook forward vs library DeepMlp: max difference (\S+)$"), 0, 1e-5);
        Assert.InRange(_run.Number(@"^notebook forward vs libtorch twin:\s+max difference (\S+)$"), 0, 1e-5);
    }

    [Fact]
    public void DepthSweep_PlainDegradesToChance_ResidualDoesNot()
    {
        var rows = _run.Lines(@"^depth\s+(\d+): plain final loss ([\d.]+), residual final loss ([\d.]+)$")
            .Select(m => (Depth: (int)LessonRun.Parse(m.Groups[1].Value), Plain: LessonRun.Parse(m.Groups[2].Value), Residual: LessonRun.Parse(m.Groups[3].Value)))
            .ToArray();
        Assert.Equal([6, 12, 18, 24, 30, 36, 42], rows.Select(r => r.Depth));
        string all = string.Join(", ", rows);
        Assert.True(Math.Abs(rows[^1].Plain - Chance) < 0.05, $"the 42-layer plain MLP should end at chance: {all}");
        Assert.True(rows[^1].Plain > 5 * rows[0].Plain, $"the deepest plain net should be far worse than the shallowest: {all}");
        Assert.All(rows.Skip(1), r => Assert.True(r.Plain > rows[0].Plain, $"every deeper plain net should train worse than the 6-layer one: {all}"));
        Assert.True(rows[^1].Plain > rows[^2].Plain && rows[^2].Plain > rows[^3].Plain, $"from 30 layers on, each plain net should be worse than the last: {all}");
        Assert.All(rows, r => Assert.True(r.Residual < r.Plain, $"residual should beat plain at every depth: {all}"));
        Assert.All(rows, r => Assert.True(r.Residual < 0.12, $"every residual net should fit (\"about the same low loss\"): {all}"));
        Assert.True(rows[^1].Residual <= rows[0].Residual, $"the 42-layer residual net should be no worse than the 6-layer one: {all}");
    }

    [Fact]
    public void TrainingCurves_DeepPlainStuck_DeepResidualCatchesUpFast()
    {
        var first = _run.Line(@"^first-step loss: plain 42 ([\d.]+), residual 42 ([\d.]+)$");
        Assert.True(LessonRun.Parse(first.Groups[2].Value) > 2 * Chance, "the 42-layer residual net should start from a high loss");
        string line = _run.Line(@"^loss at step 100 \(averaged over 20 steps\): (.*)$").Groups[1].Value;
        var at100 = System.Text.RegularExpressions.Regex.Matches(line, @"((?:plain|residual) \d+) ([\d.]+)")
            .ToDictionary(m => m.Groups[1].Value, m => LessonRun.Parse(m.Groups[2].Value));
        Assert.True(Math.Abs(at100["plain 42"] - Chance) < 0.05, "the 42-layer plain net should still be at chance at step 100");
        Assert.True(at100["plain 24"] > 1.5 * at100["plain 6"], "the 24-layer plain net should learn more slowly than the 6-layer one");
        Assert.True(at100["residual 42"] <= at100["residual 6"] * 1.1, "the 42-layer residual net should be as low as the 6-layer one by step 100");
    }

    [Fact]
    public void ResidualBackward_ComparedWithLibtorch_Matches_AndIsTheIdentityAtAlphaZero()
    {
        var m = _run.Line(@"^ResidualBackward vs libtorch autograd: max difference dx (\S+), dα (\S+) \(dα = (\S+)\)$");
        Assert.InRange(LessonRun.Parse(m.Groups[1].Value), 0, 1e-5);
        Assert.InRange(LessonRun.Parse(m.Groups[2].Value), 0, 1e-4);
        var zero = _run.Line(@"^α = 0: max \|dx − dy\| = (\S+), dα = (\S+)$");
        Assert.Equal(0, LessonRun.Parse(zero.Groups[1].Value));
        Assert.True(Math.Abs(LessonRun.Parse(zero.Groups[2].Value)) > 0.1, "dα should not vanish at α = 0");
    }

    private (double First, double Last, double Ratio, double Spread) Profile(string name)
    {
        var m = _run.Line($@"^{System.Text.RegularExpressions.Regex.Escape(name)}\s*: gradient norm layer 0 (\S+), layer 40 (\S+), ratio (\S+); largest/smallest over the layers (\S+)$");
        return (LessonRun.Parse(m.Groups[1].Value), LessonRun.Parse(m.Groups[2].Value), LessonRun.Parse(m.Groups[3].Value), LessonRun.Parse(m.Groups[4].Value));
    }

    [Fact]
    public void GradientProfiles_PlainExplodesOrVanishes_ResidualStaysLevel()
    {
        var plainBn = Profile("plain, BatchNorm");
        var plainNone = Profile("plain, no normalization");
        var res = Profile("residual, BatchNorm");
        var half = Profile("residual λ = 0.5, BatchNorm");
        Assert.InRange(plainBn.Ratio, 300, 1e4);             // "grows towards the input by about three orders of magnitude"
        Assert.True(plainNone.Ratio < 1e-10 && plainNone.Spread > 1e10, $"plain without norm should vanish by many orders: {plainNone}");
        Assert.True(res.Spread < 30, $"residual should stay within about one order of magnitude: {res}");
        Assert.True(half.Spread > 3 * res.Spread && half.Spread < plainBn.Spread, $"λ = 0.5 should lie between: {half} vs {res} and {plainBn}");
    }

    [Fact]
    public void HalvedShortcut_TrainsClearlyWorse_AboutThreeTimes()
    {
        var m = _run.Line(@"^42 layers, shortcut λ = 0.5: final loss ([\d.]+); identity shortcut: ([\d.]+) \(([\d.]+)× worse\)$");
        double half = LessonRun.Parse(m.Groups[1].Value), identity = LessonRun.Parse(m.Groups[2].Value);
        Assert.InRange(half / identity, 2, 5);
        Assert.True(half < Chance - 0.2, "the scaled shortcut still trains");
    }

    [Fact]
    public void ReZero_AtInitialization_IsExactlyTheIdentity()
    {
        Assert.Equal(0, N(@"^ReZero at initialization: max \|output − head\(layer 0\(x\)\)\| = (\S+)$"));
        var g = _run.Line(@"^ReZero at initialization: gradient norm of layers 1–40 (\S+), of the 40 gates α (\S+)$");
        Assert.Equal(0, LessonRun.Parse(g.Groups[1].Value));
        Assert.True(LessonRun.Parse(g.Groups[2].Value) > 0, "the gates should get a gradient");
    }

    [Fact]
    public void ReZero_Trains42LayersWithoutNormalization_Best()
    {
        var bn = _run.Line(@"^ReZero, 42 layers, BatchNorm: final loss ([\d.]+) \(residual with BatchNorm: ([\d.]+)\)$");
        double rezeroBn = LessonRun.Parse(bn.Groups[1].Value), residualBn = LessonRun.Parse(bn.Groups[2].Value);
        Assert.True(rezeroBn < 1.5 * residualBn && rezeroBn > residualBn / 1.5, $"ReZero with BatchNorm should end about where residual does: {rezeroBn} vs {residualBn}");

        var nn = _run.Line(@"^no normalization, 42 layers: plain ([\d.]+), residual ([\d.]+) \(first-step loss (\d+)\), ReZero ([\d.]+)$");
        double plain = LessonRun.Parse(nn.Groups[1].Value), residual = LessonRun.Parse(nn.Groups[2].Value), first = LessonRun.Parse(nn.Groups[3].Value), rezero = LessonRun.Parse(nn.Groups[4].Value);
        Assert.True(Math.Abs(plain - Chance) < 0.05, $"plain without norm should stay at chance: {plain}");
        Assert.True(first > 10, $"the residual net without norm should start from an enormous loss: {first}");
        Assert.True(residual < Chance - 0.3, $"the residual net without norm should still train: {residual}");
        Assert.True(rezero < residual && rezero < residualBn && rezero < rezeroBn, "ReZero without norm should reach the lowest loss of the 42-layer runs");
        double halfShortcut = N(@"^42 layers, shortcut λ = 0.5: final loss ([\d.]+);");
        Assert.True(rezero < halfShortcut);
    }

    [Fact]
    public void ResidualLayers_DoNotJustCopy_BranchesAreLargeAndNeeded()
    {
        double full = N(@"^trained residual network, 42 layers: test loss ([\d.]+)$");
        var ratio = _run.Line(@"^‖F\(x\)‖/‖x‖ after training: layer 1 ([\d.]+), layer 5 ([\d.]+), layer 20 ([\d.]+), layer 40 ([\d.]+)$");
        var init = _run.Line(@"^‖F\(x\)‖/‖x‖ at initialization: layer 1 ([\d.]+), layer 5 ([\d.]+), layer 20 ([\d.]+), layer 40 ([\d.]+)$");
        var rms = _run.Line(@"^RMS of F\(x\) after training: layer 1 ([\d.]+), layer 5 ([\d.]+), layer 20 ([\d.]+), layer 40 ([\d.]+)$");
        double[] r = Enumerable.Range(1, 4).Select(g => LessonRun.Parse(ratio.Groups[g].Value)).ToArray();
        double[] r0 = Enumerable.Range(1, 4).Select(g => LessonRun.Parse(init.Groups[g].Value)).ToArray();
        double[] s = Enumerable.Range(1, 4).Select(g => LessonRun.Parse(rms.Groups[g].Value)).ToArray();
        Assert.InRange(r[0], 0.7, 1.4);                       // "as large as the stream itself" at layer 1
        Assert.True(r[0] > r[1] && r[1] > r[2] && r[2] > r[3], $"the ratio should fall with depth: {string.Join(", ", r)}");
        Assert.All(s, v => Assert.InRange(v, 0.4, 0.8));      // "about 0.5 to 0.7"
        Assert.All(r.Zip(r0), p => Assert.True(Math.Abs(p.First - p.Second) < 0.25, $"the ratio profile should be almost the same before and after training: {string.Join(", ", r)} vs {string.Join(", ", r0)}"));

        var single = _run.Line(@"^without the branch of layer 1: ([\d.]+), layer 2: ([\d.]+), layer 3: ([\d.]+); median over layers 11–40: ([\d.]+), largest ([\d.]+)$");
        Assert.True(LessonRun.Parse(single.Groups[1].Value) > Chance + 0.5 && LessonRun.Parse(single.Groups[2].Value) > Chance + 0.5,
            "removing layer 1's or layer 2's branch should push the loss far above chance");
        double median = LessonRun.Parse(single.Groups[4].Value), largestLate = LessonRun.Parse(single.Groups[5].Value);
        Assert.True(median < 1.5 * full, $"removing one late branch should change little: median {median} vs {full}");

        var all = _run.Line(@"^without every branch: test loss ([\d.]+); without every second branch of layers 11–40: ([\d.]+)$");
        Assert.True(Math.Abs(LessonRun.Parse(all.Groups[1].Value) - Chance) < 0.1, "without every branch the loss should be at chance");
        Assert.True(LessonRun.Parse(all.Groups[2].Value) > 2 * largestLate, "removing 15 late branches should cost far more than any single one");
    }

    [Fact]
    public void Exercises41And42_Unsolved_FallBackOnTheLibrary()
    {
        Assert.Contains("Exercise 4.1 (Residual block forward) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Exercise 4.2 (Residual block backward (dx, dα)) is not done yet: using the library's implementation instead.", _run.Stdout, StringComparison.Ordinal);
    }
}
