using System.Reflection;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>Where the grading tests find the sample notebook, the reference solutions and the deliberate mistakes.</summary>
internal static class GradingPaths
{
    public static readonly string Root = typeof(GradingPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CourseLib.Root").Value!;

    public static string SampleNotebook => Path.Combine(Root, "tests", "CourseLib.Notebooks.Tests", "Grading", "Notebooks", "exercises.dib");

    public static string Solutions => Path.Combine(Root, "solutions");

    public static string Mistakes => Path.Combine(Root, "tests", "CourseLib.Notebooks.Tests", "Grading", "Mistakes");

    /// <summary>The sample notebook's exercise cells.</summary>
    public static IReadOnlyList<ExerciseSubmission> SampleSubmissions() => ExerciseCells.FromFile(SampleNotebook);

    /// <summary>The sample notebook's cell for <paramref name="id"/> with its text replaced by <paramref name="source"/>.</summary>
    public static ExerciseSubmission SampleWith(string id, string source) =>
        SampleSubmissions().Single(s => s.Id == id) with { Source = source };

    /// <summary>Graders for tests: a short time limit, so the timeout test is quick, still far above any solution's run time.</summary>
    public static GraderOptions Options => new() { ExerciseTimeout = TimeSpan.FromSeconds(15) };
}
