using System.Globalization;
using System.Net;
using System.Text;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// What a check cell shows: the learner's result on the visible cases (or why it could not run), next to
/// the library kernel's and, when given, TorchSharp's — each against the exercise's double-precision oracle.
/// </summary>
public sealed class ExerciseCheck
{
    internal ExerciseCheck(ExerciseSpec spec, ExerciseEvaluation? learner, string? signatureError,
        ExerciseEvaluation library, ExerciseEvaluation? torch, string? torchError)
    {
        Spec = spec;
        Learner = learner;
        SignatureError = signatureError;
        Library = library;
        Torch = torch;
        TorchError = torchError;
    }

    /// <summary>The exercise.</summary>
    public ExerciseSpec Spec { get; }

    /// <summary>The learner's evaluation, or null when the signature did not match.</summary>
    public ExerciseEvaluation? Learner { get; }

    /// <summary>Why the learner's method could not be called, or null.</summary>
    public string? SignatureError { get; }

    /// <summary>The library kernel on the same cases.</summary>
    public ExerciseEvaluation Library { get; }

    /// <summary>The TorchSharp twin on the same cases, when one was given and its signature matched.</summary>
    public ExerciseEvaluation? Torch { get; }

    /// <summary>Why the TorchSharp twin could not be called, or null.</summary>
    public string? TorchError { get; }

    /// <summary>Passed, Partial, Failed or NotAttempted; Failed for a wrong signature.</summary>
    public ExerciseStatus Status => Learner?.Status ?? ExerciseStatus.Failed;

    /// <summary>True when every visible case passed.</summary>
    public bool Passed => Status == ExerciseStatus.Passed;

    /// <summary>Plain-text form of the check.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Learner is null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Exercise {Spec.Id}: {Spec.Title} — wrong signature");
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {SignatureError}");
        }
        else if (Learner.Status == ExerciseStatus.NotAttempted)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Exercise {Spec.Id}: {Spec.Title} — not attempted yet: replace the `throw new NotImplementedException(…)` in {Spec.MethodName}.");
        }
        else
        {
            sb.AppendLine(Learner.ToString());
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"  library kernel: {Summary(Library)}");
        if (Torch is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  TorchSharp:     {Summary(Torch)}");
        }
        else if (TorchError is not null)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  TorchSharp:     {TorchError}");
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>HTML form of the check, for notebook display (registered as the text/html formatter).</summary>
    public string ToHtml()
    {
        string colour = Status switch
        {
            ExerciseStatus.Passed => "#1a7f37",
            ExerciseStatus.Partial => "#9a6700",
            ExerciseStatus.NotAttempted => "#57606a",
            _ => "#cf222e",
        };
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<div class=\"exercise-check\" style=\"border-left:4px solid {colour};padding:4px 10px\">");
        string headline = Learner is null ? "wrong signature"
            : Learner.Status == ExerciseStatus.NotAttempted ? "not attempted yet"
            : $"{ExerciseEvaluation.StatusText(Learner.Status)}: {Learner.PassedCount}/{Learner.Cases.Count} cases"
              + (double.IsNaN(Learner.MaxError) ? "" : $", largest error {Learner.MaxError.ToString("0.0e+00", CultureInfo.InvariantCulture)}");
        sb.Append(CultureInfo.InvariantCulture, $"<b>Exercise {Enc(Spec.Id)}: {Enc(Spec.Title)}</b> — <span style=\"color:{colour}\">{Enc(headline)}</span>");
        if (SignatureError is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<div>{Enc(SignatureError)}</div>");
        }

        sb.Append("<table><tr><th>case</th><th>yours</th><th>library</th>");
        if (Torch is not null)
        {
            sb.Append("<th>TorchSharp</th>");
        }

        sb.Append("</tr>");
        for (int i = 0; i < Library.Cases.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{Enc(Library.Cases[i].Name)}</td><td>{Cell(Learner?.Cases[i])}</td><td>{Cell(Library.Cases[i])}</td>");
            if (Torch is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"<td>{Cell(Torch.Cases[i])}</td>");
            }

            sb.Append("</tr>");
        }

        sb.Append("</table>");
        foreach (string h in Learner?.Hints ?? [])
        {
            sb.Append(CultureInfo.InvariantCulture, $"<div>💡 {Enc(h)}</div>");
        }

        if (TorchError is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<div>TorchSharp: {Enc(TorchError)}</div>");
        }

        sb.Append("</div>");
        return sb.ToString();
    }

    private static string Summary(ExerciseEvaluation e) =>
        $"{e.PassedCount}/{e.Cases.Count} cases" + (double.IsNaN(e.MaxError) ? "" : $", largest error {e.MaxError.ToString("0.0e+00", CultureInfo.InvariantCulture)}");

    private static string Cell(CaseResult? r) => r is null ? "—"
        : r.NotImplemented ? "not done"
        : r.Passed ? "✓ " + r.MaxError.ToString("0.0e+00", CultureInfo.InvariantCulture)
        : "✗ " + Enc(r.Message ?? "");

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
