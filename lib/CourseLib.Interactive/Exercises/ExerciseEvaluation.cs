using System.Globalization;
using System.Text;

namespace CourseLib.Interactive.Exercises;

/// <summary>The outcome of one case.</summary>
/// <param name="Name">What the case exercises, e.g. "odd shape 3×7".</param>
/// <param name="Hidden">True for grader-only cases.</param>
/// <param name="Passed">Every output within tolerance.</param>
/// <param name="MaxError">Largest |actual − expected| / max(|expected|∞, 1e-6) over the outputs; NaN when nothing could be compared.</param>
/// <param name="Message">Why it failed (first element out of tolerance, exception, shape), or null.</param>
/// <param name="Hint">A hint that follows from this failure alone (NaN, wrong length, modified input), or null.</param>
/// <param name="NotImplemented">The function threw <see cref="NotImplementedException"/>: the stub is still there.</param>
public sealed record CaseResult(string Name, bool Hidden, bool Passed, double MaxError, string? Message, string? Hint, bool NotImplemented = false);

/// <summary>How an exercise went, for the check cell and for the grade report.</summary>
public enum ExerciseStatus
{
    /// <summary>Every case passed: full points.</summary>
    Passed,

    /// <summary>Some cases passed: points in proportion.</summary>
    Partial,

    /// <summary>No case passed (or the signature is wrong, or it throws).</summary>
    Failed,

    /// <summary>The stub still throws <see cref="NotImplementedException"/>.</summary>
    NotAttempted,

    /// <summary>The exercise cell does not compile (grader only).</summary>
    CompileError,

    /// <summary>The exercise ran past its time limit and was stopped (grader only).</summary>
    Timeout,
}

/// <summary>All cases of one exercise run against one implementation, with the hints that follow.</summary>
public sealed class ExerciseEvaluation
{
    internal ExerciseEvaluation(string id, string title, double points, IReadOnlyList<CaseResult> cases, IReadOnlyList<string> hints)
    {
        Id = id;
        Title = title;
        Points = points;
        Cases = cases;
        Hints = hints;
    }

    /// <summary>Exercise id.</summary>
    public string Id { get; }

    /// <summary>Exercise title.</summary>
    public string Title { get; }

    /// <summary>Points available.</summary>
    public double Points { get; }

    /// <summary>One result per case, in order.</summary>
    public IReadOnlyList<CaseResult> Cases { get; }

    /// <summary>Hints from recognised mistakes and from individual failures; empty when all passed.</summary>
    public IReadOnlyList<string> Hints { get; }

    /// <summary>Number of cases that passed.</summary>
    public int PassedCount => Cases.Count(c => c.Passed);

    /// <summary>Largest error over the cases that produced comparable output (NaN if none did).</summary>
    public double MaxError
    {
        get
        {
            double[] errs = Cases.Select(c => c.MaxError).Where(e => !double.IsNaN(e)).ToArray();
            return errs.Length == 0 ? double.NaN : errs.Max();
        }
    }

    /// <summary>Passed, Partial, Failed or NotAttempted (every case hit the stub's NotImplementedException).</summary>
    public ExerciseStatus Status =>
        Cases.Count > 0 && Cases.All(c => c.NotImplemented) ? ExerciseStatus.NotAttempted
        : PassedCount == Cases.Count && Cases.Count > 0 ? ExerciseStatus.Passed
        : PassedCount > 0 ? ExerciseStatus.Partial
        : ExerciseStatus.Failed;

    /// <summary>Points × passed / total, rounded to hundredths; exactly <see cref="Points"/> when all passed.</summary>
    public double Score => Cases.Count == 0 ? 0 : Math.Round(Points * PassedCount / Cases.Count, 2);

    /// <summary>Plain-text report: status, cases passed, largest error, each failure and each hint.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Exercise {Id}: {Title} — {StatusText(Status)}, {PassedCount}/{Cases.Count} cases passed");
        if (!double.IsNaN(MaxError))
        {
            sb.Append(CultureInfo.InvariantCulture, $", largest error {MaxError:0.0e+00}");
        }

        sb.AppendLine();
        foreach (CaseResult c in Cases.Where(c => !c.Passed))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  ✗ {c.Name}: {c.Message}");
        }

        foreach (string h in Hints)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  Hint: {h}");
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>The words a report uses for a status: "passed", "partial", "failed", "not attempted", "compile error", "timeout".</summary>
    public static string StatusText(ExerciseStatus status) => status switch
    {
        ExerciseStatus.Passed => "passed",
        ExerciseStatus.Partial => "partial",
        ExerciseStatus.Failed => "failed",
        ExerciseStatus.NotAttempted => "not attempted",
        ExerciseStatus.CompileError => "compile error",
        ExerciseStatus.Timeout => "timeout",
        _ => status.ToString(),
    };
}
