using Microsoft.DotNet.Interactive.Formatting;

namespace CourseLib.Notebooks.Execution;

/// <summary>
/// Formats values through Microsoft.DotNet.Interactive.Formatting, the library the real kernel formats with, so a
/// formatter registered once (e.g. CourseLib.Interactive's chart formatter) serves the kernel and the runner.
/// </summary>
public static class ValueFormatter
{
    /// <summary>The MIME type of HTML output.</summary>
    public const string Html = "text/html";

    /// <summary>The MIME type of plain text output.</summary>
    public const string PlainText = "text/plain";

    /// <summary>
    /// Formats <paramref name="value"/> for one MIME type: the first of <paramref name="mimeTypes"/> when given
    /// (as <c>display(x, "text/plain")</c> asks), else text/html when the value's preferred MIME types include it,
    /// else the first preferred type, else text/plain.
    /// </summary>
    public static (string MimeType, string Value) Format(object? value, IReadOnlyList<string>? mimeTypes = null)
    {
        if (value is null)
        {
            // What the kernel's formatters print for null.
            return (PlainText, "<null>");
        }

        string mime;
        if (mimeTypes is { Count: > 0 })
        {
            mime = mimeTypes[0];
        }
        else
        {
            string[] preferred = [.. Formatter.GetPreferredMimeTypesFor(value.GetType())];
            mime = preferred.Contains(Html, StringComparer.Ordinal) ? Html : preferred.FirstOrDefault() ?? PlainText;
        }

        return (mime, value.ToDisplayString(mime));
    }
}
