using Microsoft.DotNet.Interactive.Formatting;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// Shows an <see cref="ExerciseCheck"/> as its report (HTML in notebooks, text elsewhere) instead of the default
/// property table. Registered on first use by <see cref="Exercise.Check"/>, and again after a formatter reset.
/// </summary>
internal static class ExerciseFormatters
{
    private static readonly Lock s_gate = new();

    public static void EnsureRegistered()
    {
        lock (s_gate)
        {
            bool present = Formatter.RegisteredFormatters(false)
                .Any(f => f.Type == typeof(ExerciseCheck) && f.MimeType == HtmlFormatter.MimeType);
            if (present)
            {
                return;
            }

            Formatter.Register<ExerciseCheck>((check, writer) => writer.Write(check.ToHtml()), HtmlFormatter.MimeType);
            Formatter.Register<ExerciseCheck>((check, writer) => writer.Write(check.ToString()), PlainTextFormatter.MimeType);
            Formatter.SetPreferredMimeTypesFor(typeof(ExerciseCheck), HtmlFormatter.MimeType);
        }
    }
}
