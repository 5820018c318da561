using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>
/// A theory skipped unless COURSELIB_GRADE=1: grading a learner's own notebooks is opt-in, so CI does not fail
/// merely because the committed stubs are unsolved.
/// </summary>
public sealed class LearnerGradeTheoryAttribute : TheoryAttribute
{
    public LearnerGradeTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("COURSELIB_GRADE") != "1")
        {
            Skip = "Grading your notebooks is opt-in: COURSELIB_GRADE=1 dotnet test --filter \"FullyQualifiedName~LearnerGrading\" (add &DisplayName~3.1 for one exercise).";
        }
    }
}

/// <summary>
/// Your exercises in notebooks/, one test per exercise id, for the test explorer or
/// <c>COURSELIB_GRADE=1 dotnet test tests/CourseLib.Notebooks.Tests --filter "FullyQualifiedName~LearnerGrading&amp;DisplayName~3.1"</c>.
/// </summary>
public class LearnerGradingTests
{
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (ExerciseSpec e in ExerciseCatalog.All)
        {
            data.Add(e.Id);
        }

        return data;
    }

    [LearnerGradeTheory]
    [MemberData(nameof(Ids))]
    public void Exercise_InYourNotebooks_Passes(string id)
    {
        string notebooks = Path.Combine(GradingPaths.Root, "notebooks");
        var grader = new Grader(new GraderOptions { Ids = [id] });
        GradeReport report = grader.Grade([notebooks]);

        Assert.True(report.Exercises.Count > 0, $"No cell marked `// Exercise {id}: …` in {notebooks}.");
        Assert.True(report.Exercises.All(e => e.Status == ExerciseStatus.Passed), GradeReportWriter.ToText(report, GradingPaths.Root));
    }
}
