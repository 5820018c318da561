using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;

namespace CourseLib.Notebooks.Execution;

/// <summary>
/// Maps compiler diagnostics and exception stack frames back to a line of a cell. Each submission is compiled
/// with a file path naming its cell (<see cref="SubmissionPath"/>) and with debug information, so both carry
/// that path and a line; directive lines the runner consumed were blanked rather than removed, so a line in the
/// submission is the same line in the cell.
/// </summary>
public static class ErrorLocator
{
    /// <summary>
    /// The file path given to the submission of a notebook's cell: absolute, because Roslyn roots relative paths
    /// at the script's base directory in debug information, and unique per cell.
    /// </summary>
    public static string SubmissionPath(string notebookPath, int cellNumber) =>
        $"{Path.GetFullPath(notebookPath)}#cell{cellNumber.ToString(CultureInfo.InvariantCulture)}";

    private static bool SamePath(string? a, string b) =>
        a is not null && (a == b || Path.IsPathRooted(a) && Path.GetFullPath(a) == Path.GetFullPath(b));

    /// <summary>The first error's line in the cell and all errors as text (with lines of the cell).</summary>
    public static (int? LineInCell, string Message) Describe(IEnumerable<Diagnostic> diagnostics, string submissionPath)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        int? first = null;
        var text = new StringBuilder();
        foreach (Diagnostic d in errors)
        {
            FileLinePositionSpan span = d.Location.GetMappedLineSpan();
            bool inCell = d.Location.IsInSource && SamePath(span.Path, submissionPath);
            int line = span.StartLinePosition.Line + 1;
            int column = span.StartLinePosition.Character + 1;
            if (inCell)
            {
                first ??= line;
                text.Append(CultureInfo.InvariantCulture, $"({line},{column}): ");
            }
            else if (d.Location.IsInSource)
            {
                text.Append(CultureInfo.InvariantCulture, $"{span.Path}({line},{column}): ");
            }

            text.Append(CultureInfo.InvariantCulture, $"error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}\n");
        }

        return (first, text.ToString().TrimEnd());
    }

    /// <summary>
    /// The line of the innermost frame that runs in the cell's submission (looking through inner exceptions),
    /// and a message: the exception type and message, and the stack trace down to the cell's frames.
    /// </summary>
    public static (int? LineInCell, string Message) Describe(Exception exception, string submissionPath)
    {
        ArgumentNullException.ThrowIfNull(exception);
        int? line = null;
        for (Exception? e = exception; e is not null && line is null; e = e.InnerException)
        {
            line = new StackTrace(e, fNeedFileInfo: true).GetFrames()
                .Where(f => SamePath(f.GetFileName(), submissionPath) && f.GetFileLineNumber() > 0)
                .Select(f => (int?)f.GetFileLineNumber())
                .FirstOrDefault();
        }

        return (line, Trim(exception));
    }

    /// <summary>Exception text without the frames of the runner and of Roslyn's script machinery below the cell.</summary>
    private static string Trim(Exception exception)
    {
        var kept = new List<string>();
        foreach (string raw in exception.ToString().Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            string t = line.TrimStart();
            if (t.StartsWith("at Microsoft.CodeAnalysis.Scripting.", StringComparison.Ordinal) ||
                t.StartsWith("at CourseLib.Notebooks.", StringComparison.Ordinal) ||
                t.StartsWith("at System.Runtime.CompilerServices.AsyncMethodBuilderCore", StringComparison.Ordinal) ||
                t.StartsWith("--- End of stack trace from previous location", StringComparison.Ordinal))
            {
                continue;
            }

            kept.Add(line);
        }

        return string.Join("\n", kept);
    }
}
