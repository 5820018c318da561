using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>Grades every deliberate mistake in Grading/Mistakes/ once (one worker run), for the tests below.</summary>
public sealed class MistakeGrades
{
    public MistakeGrades()
    {
        Files = Directory.GetFiles(GradingPaths.Mistakes, "*.csx").Order(StringComparer.Ordinal).ToArray();
        ExerciseSubmission[] submissions = Files.Select(f =>
        {
            string source = File.ReadAllText(f).TrimEnd('\n');
            string id = ExerciseCells.MarkerId(source.Split('\n')[0]) ?? throw new InvalidDataException($"{f} has no exercise marker");
            return GradingPaths.SampleWith(id, source);
        }).ToArray();
        Grades = new Grader(GradingPaths.Options).Grade(submissions).Exercises;
    }

    public IReadOnlyList<string> Files { get; }

    public IReadOnlyList<ExerciseGrade> Grades { get; }

    public ExerciseGrade For(string fileName) => Grades[Array.FindIndex(Files.ToArray(), f => Path.GetFileName(f) == fileName)];
}

/// <summary>Every exercise has at least one typical wrong solution, and each scores less than full points with the expected hint.</summary>
public class MistakeGradingTests(MistakeGrades grades) : IClassFixture<MistakeGrades>
{
    public static TheoryData<string> MistakeFiles()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(GradingPaths.Mistakes, "*.csx").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    [Fact]
    public void Mistakes_EveryExercise_HasAtLeastOne()
    {
        var covered = grades.Files.Select(f => Path.GetFileName(f).Split('-')[0]).ToHashSet();
        Assert.All(ExerciseCatalog.All, e => Assert.Contains(e.Id, covered));
    }

    [Theory]
    [MemberData(nameof(MistakeFiles))]
    public void Grade_DeliberateMistake_LessThanFullPointsWithHint(string file)
    {
        ExerciseGrade g = grades.For(file);
        string expectedHint = File.ReadLines(Path.Combine(GradingPaths.Mistakes, file))
            .Single(l => l.StartsWith("// expect-hint:", StringComparison.Ordinal))["// expect-hint:".Length..].Trim();

        Assert.True(g.Score < g.Points, $"{file} scored full points");
        Assert.Contains(g.Status, new[] { ExerciseStatus.Partial, ExerciseStatus.Failed });
        Assert.True(g.Hints.Any(h => h.Contains(expectedHint, StringComparison.Ordinal)),
            $"{file}: expected a hint containing \"{expectedHint}\", got: {string.Join(" | ", g.Hints)}; {g.StatusText}: {g.Message}; "
            + string.Join("; ", g.Cases.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Message}")));
    }
}

/// <summary>
/// The instant check in the notebook sees only the visible cases; each deliberate mistake must already fail there
/// with its hint, so learners get the feedback before grading. (Compiled in this process: mistakes terminate.)
/// </summary>
public class MistakeInlineCheckTests
{
    [Theory]
    [MemberData(nameof(MistakeGradingTests.MistakeFiles), MemberType = typeof(MistakeGradingTests))]
    public void InlineCheck_DeliberateMistake_FailsWithHintOnVisibleCases(string file)
    {
        string path = Path.Combine(GradingPaths.Mistakes, file);
        string source = File.ReadAllText(path).TrimEnd('\n');
        string id = ExerciseCells.MarkerId(source.Split('\n')[0])!;
        string expectedHint = source.Split('\n').Single(l => l.StartsWith("// expect-hint:", StringComparison.Ordinal))["// expect-hint:".Length..].Trim();
        ExerciseSpec spec = ExerciseCatalog.Get(id);

        (Delegate? learner, ExerciseGrade? failure) = ExerciseCompiler.Compile(GradingPaths.SampleWith(id, source), spec, () => { }, System.Diagnostics.Stopwatch.StartNew());
        Assert.Null(failure);
        ExerciseCheck check = Exercise.Check(id, learner!);

        Assert.False(check.Passed, $"{file} passes the visible cases");
        Assert.True(check.Learner!.Hints.Any(h => h.Contains(expectedHint, StringComparison.Ordinal)), $"{file}: {check}");
    }
}
