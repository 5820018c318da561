using System.Text.Json;
using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>
/// What learners write that is not an answer: code that does not compile, the wrong signature, an endless loop,
/// unbounded recursion, an exception, console output, writes into an input. All are graded in one run, followed
/// by a correct solution, which must still pass: one exercise's failure never stops the others.
/// </summary>
public sealed class RobustnessGrades
{
    public const string CompileError = """
        // Exercise 3.1: LayerNorm forward
        float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps)
        {
            var y = new float[n * c]
            return y;
        }
        """;

    public const string WrongSignature = """
        // Exercise 3.1: LayerNorm forward
        float[] LayerNormForward(float[] x, int n, int c)
        {
            return x;
        }
        """;

    public const string MissingMethod = """
        // Exercise 2.1: GELU (exact) forward
        float[] Gelu(float[] x) => x;
        """;

    public const string EndlessLoop = """
        // Exercise 2.1: GELU (exact) forward
        float[] GeluForward(float[] x)
        {
            float s = 0;
            while (true) { s += 1; }
        }
        """;

    public const string Recursion = """
        // Exercise 2.2: GELU derivative
        float[] GeluDerivative(float[] x) => GeluDerivative(x);
        """;

    public const string Throws = """
        // Exercise 7.1: Fused bias + GELU forward
        float[] BiasGeluForward(float[] x, float[] bias, int n, int c) => throw new InvalidOperationException("oops");
        """;

    public const string PrintsAndMutates = """
        // Exercise 4.1: Residual block forward
        float[] ResidualForward(float[] x, Func<float[], float[]> sublayer, float scale)
        {
            Console.WriteLine("@@courselib-grade {\"event\":\"result\",\"index\":99}");
            float[] fx = sublayer(x);
            for (int i = 0; i < x.Length; i++) x[i] += scale * fx[i];
            return x;
        }
        """;

    public RobustnessGrades()
    {
        ExerciseSubmission[] submissions =
        [
            GradingPaths.SampleWith("3.1", CompileError),
            GradingPaths.SampleWith("3.1", WrongSignature),
            GradingPaths.SampleWith("2.1", MissingMethod),
            GradingPaths.SampleWith("2.1", EndlessLoop),
            GradingPaths.SampleWith("2.2", Recursion),
            GradingPaths.SampleWith("7.1", Throws),
            GradingPaths.SampleWith("4.1", PrintsAndMutates),
            GradingPaths.SampleWith("5.1", File.ReadAllText(Path.Combine(GradingPaths.Solutions, "5.1.csx"))),
        ];
        Report = new Grader(GradingPaths.Options with { ExerciseTimeout = TimeSpan.FromSeconds(8) }).Grade(submissions);
        CellFirstLine = GradingPaths.SampleSubmissions().Single(s => s.Id == "3.1").FirstLine;
    }

    public GradeReport Report { get; }

    public int CellFirstLine { get; }
}

public class GraderRobustnessTests(RobustnessGrades run) : IClassFixture<RobustnessGrades>
{
    private ExerciseGrade this[int i] => run.Report.Exercises[i];

    [Fact]
    public void Grade_CompileError_ZeroWithCompilerMessageAndNotebookLine()
    {
        ExerciseGrade g = this[0];
        Assert.Equal(ExerciseStatus.CompileError, g.Status);
        Assert.Equal(0, g.Score);
        Assert.Contains("CS1002", g.Message, StringComparison.Ordinal);
        // The missing ';' is on the cell's 4th line (line 3 of the cell is `var y = …`, reported at its end).
        Assert.Equal(run.CellFirstLine + 3, g.Line);
    }

    [Fact]
    public void Grade_WrongSignature_FailedNamingTheExpectedSignature()
    {
        ExerciseGrade g = this[1];
        Assert.Equal(ExerciseStatus.Failed, g.Status);
        Assert.Contains("float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps)", g.Message, StringComparison.Ordinal);
        Assert.Contains("float[] (float[], int, int)", g.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Grade_MethodMissing_FailedSayingWhichNameIsExpected()
    {
        ExerciseGrade g = this[2];
        Assert.Equal(ExerciseStatus.Failed, g.Status);
        Assert.Contains("does not declare a method named GeluForward", g.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Grade_EndlessLoop_TimeoutAndTheNextExerciseStillGraded()
    {
        ExerciseGrade g = this[3];
        Assert.Equal(ExerciseStatus.Timeout, g.Status);
        Assert.Equal(0, g.Score);
        Assert.Contains("did not finish", g.Message, StringComparison.Ordinal);
        Assert.Equal("2.2", this[4].Id);
    }

    [Fact]
    public void Grade_StackOverflow_FailedWithCrashMessage()
    {
        ExerciseGrade g = this[4];
        Assert.Equal(ExerciseStatus.Failed, g.Status);
        Assert.Contains("stack overflow", g.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Grade_Exception_FailedWithExceptionPerCase()
    {
        ExerciseGrade g = this[5];
        Assert.Equal(ExerciseStatus.Failed, g.Status);
        Assert.All(g.Cases, c => Assert.Contains("InvalidOperationException: oops", c.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Grade_PrintsProtocolLookalikeAndMutatesInput_NotConfusedAndHinted()
    {
        ExerciseGrade g = this[6];
        Assert.Equal("4.1", g.Id);
        // With α = 0 the write changes nothing, so that one case passes: partial, not full.
        Assert.True(g.Score < g.Points);
        Assert.Contains(g.Hints, h => h.Contains("modified its input `x`", StringComparison.Ordinal));
    }

    [Fact]
    public void Grade_AfterEveryKindOfFailure_CorrectSolutionStillPasses()
    {
        ExerciseGrade g = this[7];
        Assert.Equal("5.1", g.Id);
        Assert.Equal(ExerciseStatus.Passed, g.Status);
        Assert.Equal(g.Points, g.Score);
    }

    [Fact]
    public void Report_MarkdownAndJson_HoldEveryExerciseAndStatus()
    {
        string dir = Path.Combine(Path.GetTempPath(), "courselib-grades-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            (string md, string json) = GradeReportWriter.WriteFiles(run.Report, dir, GradingPaths.Root);
            string markdown = File.ReadAllText(md);
            Assert.Contains("| 3.1 | LayerNorm forward | compile error | 0/2 |", markdown, StringComparison.Ordinal);
            Assert.Contains("| 2.1 | GELU (exact) forward | timeout | 0/1 |", markdown, StringComparison.Ordinal);
            Assert.Contains("| 5.1 | Linear warm-up + cosine schedule | passed | 2/2 |", markdown, StringComparison.Ordinal);
            Assert.Contains("## Lesson 3", markdown, StringComparison.Ordinal);

            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement[] exercises = doc.RootElement.GetProperty("exercises").EnumerateArray().ToArray();
            Assert.Equal(run.Report.Exercises.Count, exercises.Length);
            Assert.Equal("CompileError", exercises[0].GetProperty("status").GetString());
            Assert.Equal("compile error", exercises[0].GetProperty("statusText").GetString());
            Assert.Equal(run.Report.Score, doc.RootElement.GetProperty("score").GetDouble());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
