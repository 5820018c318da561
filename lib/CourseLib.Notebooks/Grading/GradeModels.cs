using System.Text.Json.Serialization;
using CourseLib.Interactive.Exercises;

namespace CourseLib.Notebooks.Grading;

/// <summary>One case as the grader saw it.</summary>
/// <param name="Name">What the case exercises.</param>
/// <param name="Hidden">True for grader-only cases.</param>
/// <param name="Passed">Within tolerance.</param>
/// <param name="MaxError">Largest relative error, or null when nothing could be compared.</param>
/// <param name="Message">Why it failed, or null.</param>
public sealed record CaseGrade(string Name, bool Hidden, bool Passed, double? MaxError, string? Message);

/// <summary>The grade of one exercise cell.</summary>
/// <param name="Notebook">Notebook path as given to the grader.</param>
/// <param name="Lesson">Lesson number (the part of the id before the dot).</param>
/// <param name="Id">Exercise id.</param>
/// <param name="Title">Exercise title (from the catalog; the marker's own text for an unknown id).</param>
/// <param name="Points">Points available.</param>
/// <param name="Score">Points earned.</param>
/// <param name="Status">passed / partial / failed / not attempted / compile error / timeout.</param>
/// <param name="PassedCases">Cases passed.</param>
/// <param name="TotalCases">Cases run (visible and hidden).</param>
/// <param name="MaxError">Largest relative error over comparable cases, or null.</param>
/// <param name="Message">The compiler message, the exception, the signature mismatch or the timeout, or null.</param>
/// <param name="Line">Line in the notebook file the message points at (the cell's first line when no better one), or null.</param>
/// <param name="Hints">Hints from recognised mistakes.</param>
/// <param name="Cases">Each case.</param>
/// <param name="Seconds">Wall time of compiling and grading this exercise.</param>
public sealed record ExerciseGrade(
    string Notebook, int Lesson, string Id, string Title, double Points, double Score,
    [property: JsonConverter(typeof(JsonStringEnumConverter<ExerciseStatus>))] ExerciseStatus Status,
    int PassedCases, int TotalCases, double? MaxError, string? Message, int? Line,
    IReadOnlyList<string> Hints, IReadOnlyList<CaseGrade> Cases, double Seconds)
{
    /// <summary>The status as the report prints it.</summary>
    public string StatusText => ExerciseEvaluation.StatusText(Status);

    internal static int LessonOf(string id) => int.Parse(id.AsSpan(0, id.IndexOf('.', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A grade with no cases run: compile error, timeout, crash, unknown exercise.</summary>
    internal static ExerciseGrade WithoutCases(ExerciseSubmission s, ExerciseStatus status, string message, int? line, double seconds)
    {
        ExerciseSpec? spec = ExerciseCatalog.Find(s.Id);
        return new ExerciseGrade(s.NotebookPath, LessonOf(s.Id), s.Id, spec?.Title ?? "(unknown exercise)", spec?.Points ?? 0, 0, status,
            0, 0, null, message, line ?? s.FirstLine, [], [], seconds);
    }
}

/// <summary>Everything one grading run produced.</summary>
/// <param name="Exercises">One grade per exercise cell, in notebook and document order.</param>
/// <param name="Errors">Notebooks that could not be read or parsed, with the reason.</param>
public sealed record GradeReport(IReadOnlyList<ExerciseGrade> Exercises, IReadOnlyList<string> Errors)
{
    /// <summary>Sum of the scores.</summary>
    public double Score => Math.Round(Exercises.Sum(e => e.Score), 2);

    /// <summary>Sum of the points available.</summary>
    public double Points => Exercises.Sum(e => e.Points);
}
