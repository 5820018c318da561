using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>
/// Tests that test the tests: the reference solutions score full points on every exercise, and the stubs as
/// committed score zero as "not attempted". Each grades the whole sample notebook in one worker run.
/// </summary>
public class ReferenceAndStubGradingTests
{
    [Fact]
    public void SampleNotebook_HasEveryExerciseOnce_InCourseOrder()
    {
        string[] ids = GradingPaths.SampleSubmissions().Select(s => s.Id).ToArray();
        Assert.Equal(ExerciseCatalog.All.Select(e => e.Id), ids);
    }

    [Fact]
    public void Solutions_OneFilePerExercise_Exist()
    {
        foreach (ExerciseSpec spec in ExerciseCatalog.All)
        {
            string file = Path.Combine(GradingPaths.Solutions, spec.Id + ".csx");
            Assert.True(File.Exists(file), $"missing reference solution {file}");
            Assert.Equal(spec.Id, ExerciseCells.MarkerId(File.ReadLines(file).First()));
        }
    }

    [Fact]
    public void Grade_ReferenceSolutionsSwappedIn_EveryExerciseFullPoints()
    {
        var grader = new Grader(GradingPaths.Options with { SolutionsFolder = GradingPaths.Solutions });
        GradeReport report = grader.Grade([GradingPaths.SampleNotebook]);

        Assert.Equal(ExerciseCatalog.All.Count, report.Exercises.Count);
        foreach (ExerciseGrade g in report.Exercises)
        {
            Assert.True(g.Status == ExerciseStatus.Passed, $"{g.Id}: {g.StatusText} {g.Message} {string.Join(" ", g.Hints)}");
            Assert.Equal(g.Points, g.Score);
            Assert.True(g.TotalCases > g.Cases.Count(c => !c.Hidden), $"{g.Id} has no hidden cases");
        }

        Assert.Equal(report.Points, report.Score);
    }

    [Fact]
    public void Grade_CommittedStubs_EveryExerciseNotAttemptedWithZero()
    {
        GradeReport report = new Grader(GradingPaths.Options).Grade([GradingPaths.SampleNotebook]);

        Assert.Equal(ExerciseCatalog.All.Count, report.Exercises.Count);
        Assert.All(report.Exercises, g =>
        {
            Assert.Equal(ExerciseStatus.NotAttempted, g.Status);
            Assert.Equal(0, g.Score);
            Assert.Equal("not attempted", g.StatusText);
        });
        string text = GradeReportWriter.ToText(report, GradingPaths.Root);
        Assert.Contains("not attempted", text, StringComparison.Ordinal);
        Assert.Contains($"0/{report.Points}", text, StringComparison.Ordinal);
    }
}
