using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>
/// The exercise cells placed in the lessons (notebooks/) as committed: known ids, stubs that grade as
/// "not attempted", and cells the reference solutions drop into for full points (right method name, signature
/// and usings). Holds for however many exercises the lessons contain so far.
/// </summary>
public class LessonNotebookGradingTests
{
    private static readonly string Notebooks = Path.Combine(GradingPaths.Root, "notebooks");

    private static ExerciseSubmission[] LessonCells() =>
        Directory.Exists(Notebooks)
            ? Grader.ExpandPaths([Notebooks]).SelectMany(ExerciseCells.FromFile).ToArray()
            : [];

    [Fact]
    public void LessonNotebooks_ExerciseCells_KnownIdsEachOnce()
    {
        ExerciseSubmission[] cells = LessonCells();
        Assert.All(cells, c => Assert.NotNull(ExerciseCatalog.Find(c.Id)));
        Assert.Equal(cells.Length, cells.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void Grade_LessonNotebooksAsCommitted_StubsNotAttemptedAndSolutionsFullPoints()
    {
        ExerciseSubmission[] cells = LessonCells();
        if (cells.Length == 0)
        {
            return; // No lesson holds an exercise yet: nothing is committed that could be wrong.
        }

        GradeReport stubs = new Grader(GradingPaths.Options).Grade(cells);
        Assert.All(stubs.Exercises, g => Assert.True(g.Status == ExerciseStatus.NotAttempted, $"{g.Notebook} {g.Id}: {g.StatusText} {g.Message}"));

        GradeReport solved = new Grader(GradingPaths.Options with { SolutionsFolder = GradingPaths.Solutions }).Grade(cells);
        Assert.All(solved.Exercises, g => Assert.True(g.Status == ExerciseStatus.Passed, $"{g.Notebook} {g.Id}: {g.StatusText} {g.Message}"));
    }
}
