using System.Globalization;
using System.Text;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Rendering;

/// <summary>One notebook as a page: markdown rendered, code highlighted, every output and error in place.</summary>
internal static class LessonPage
{
    public static string Render(Lesson lesson, Lesson? previous, Lesson? next)
    {
        var result = lesson.Result;
        bool hasCharts = result.Cells.SelectMany(c => c.Outputs)
            .Any(o => o.MimeType == "text/html" && o.Value.Contains("Plotly", StringComparison.Ordinal));

        var html = new StringBuilder();
        PageLayout.Begin(html, $"{lesson.Title} · {PageLayout.CourseName}", hasCharts);
        Pager(html, previous, next, "pager-top");
        html.Append("<main class=\"lesson\">\n");
        Summary(html, lesson);

        var cells = result.Document.Cells;
        for (int i = 0; i < cells.Count; i++)
        {
            // The runner gives one result per cell; a crashed worker may leave fewer, which count as not run.
            var cellResult = i < result.Cells.Count ? result.Cells[i] : new CellResult(cells[i].Number, CellStatus.NotRun, [], 0);
            Cell(html, lesson, cells[i], cellResult);
        }

        html.Append("</main>\n");
        Pager(html, previous, next, "pager-bottom");
        PageLayout.End(html);
        return html.ToString();
    }

    private static void Summary(StringBuilder html, Lesson lesson)
    {
        var result = lesson.Result;
        html.Append(CultureInfo.InvariantCulture,
            $"<p class=\"lesson-meta\"><span class=\"status {lesson.Status}\">{lesson.Status}</span> <code>{PageLayout.Encode(lesson.SourceName)}</code> · {result.Cells.Count} cells · {PageLayout.Seconds(result.Seconds)}</p>\n");
        if (result.FatalError is not null)
        {
            html.Append("<div class=\"error-box\" role=\"alert\"><p class=\"error-title\">This notebook could not be run</p><pre>")
                .Append(PageLayout.Encode(result.FatalError)).Append("</pre></div>\n");
        }
        else if (lesson.FirstFailure is { } failed)
        {
            html.Append(CultureInfo.InvariantCulture,
                $"<div class=\"error-box\" role=\"alert\"><p class=\"error-title\">Cell {failed.Number} failed; the cells after it did not run. <a href=\"#cell-{failed.Number}\">Go to the error</a></p></div>\n");
        }
    }

    private static void Cell(StringBuilder html, Lesson lesson, NotebookCell cell, CellResult result)
    {
        string status = result.Status switch
        {
            CellStatus.Failed => "failed",
            CellStatus.NotRun => "not-run",
            _ => "succeeded",
        };
        if (cell.Kernel == "markdown")
        {
            html.Append(CultureInfo.InvariantCulture, $"<section class=\"cell markdown-cell {status}\" id=\"cell-{cell.Number}\">\n")
                .Append(MarkdownRenderer.ToHtml(cell.Source))
                .Append("</section>\n");
            return;
        }

        html.Append(CultureInfo.InvariantCulture, $"<section class=\"cell code-cell {status}\" id=\"cell-{cell.Number}\">\n");
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"cell-head\"><a class=\"cell-number\" href=\"#cell-{cell.Number}\">[{cell.Number}]</a>");
        if (cell.Kernel != "csharp")
        {
            html.Append(CultureInfo.InvariantCulture, $"<span class=\"cell-kernel\">{PageLayout.Encode(cell.Kernel)}</span>");
        }
        html.Append(result.Status switch
        {
            CellStatus.NotRun => "<span class=\"cell-state\">not run: an earlier cell failed</span>",
            _ => $"<span class=\"cell-state\">{PageLayout.Seconds(result.Seconds)}</span>",
        });
        html.Append("</div>\n");
        html.Append(CultureInfo.InvariantCulture, $"<pre class=\"source\"><code class=\"language-{LanguageClass(cell.Kernel)}\">")
            .Append(PageLayout.Encode(cell.Source)).Append("</code></pre>\n");

        if (result.Outputs.Count > 0)
        {
            html.Append("<div class=\"outputs\">\n");
            Outputs(html, result.Outputs);
            html.Append("</div>\n");
        }
        if (result.Error is { } error)
        {
            Error(html, lesson, cell, error);
        }
        html.Append("</section>\n");
    }

    private static void Outputs(StringBuilder html, IReadOnlyList<CellOutput> outputs)
    {
        for (int i = 0; i < outputs.Count; i++)
        {
            var output = outputs[i];
            if (output.Kind is "stdout" or "stderr")
            {
                // A cell that prints in a loop produces many stream chunks; a reader wants one block.
                var text = new StringBuilder(output.Value);
                while (i + 1 < outputs.Count && outputs[i + 1].Kind == output.Kind)
                {
                    text.Append(outputs[++i].Value);
                }
                html.Append(CultureInfo.InvariantCulture, $"<pre class=\"output {output.Kind}\">")
                    .Append(PageLayout.Encode(text.ToString().TrimEnd('\n'))).Append("</pre>\n");
            }
            else if (output.MimeType == "text/html")
            {
                // Formatter output is trusted HTML (our formatters, the kernel's defaults): shown as is.
                html.Append("<div class=\"output display html\">").Append(output.Value).Append("</div>\n");
            }
            else
            {
                html.Append("<pre class=\"output display text\">").Append(PageLayout.Encode(output.Value)).Append("</pre>\n");
            }
        }
    }

    private static void Error(StringBuilder html, Lesson lesson, NotebookCell cell, CellError error)
    {
        string kind = error.Kind switch
        {
            "compile" => "Compile error",
            "exception" => "Exception",
            "timeout" => "Timed out",
            "directive" => "Unsupported directive",
            "kernel" => "Unsupported kernel",
            _ => "Error",
        };
        var where = new StringBuilder();
        where.Append(CultureInfo.InvariantCulture, $"{PageLayout.Encode(lesson.SourceName)}, cell {cell.Number}");
        if (error.LineInCell is int line)
        {
            where.Append(CultureInfo.InvariantCulture, $", line {line}");
        }
        if (error.LineInFile is int fileLine)
        {
            where.Append(CultureInfo.InvariantCulture, $" (line {fileLine} of the file)");
        }
        html.Append("<div class=\"error-box\" role=\"alert\">");
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"error-title\">{kind} in {where}</p>");
        string[] lines = cell.Source.Split('\n');
        if (error.LineInCell is int l && l >= 1 && l <= lines.Length)
        {
            html.Append(CultureInfo.InvariantCulture, $"<pre class=\"error-line\"><span class=\"line-number\">{l}</span> ")
                .Append(PageLayout.Encode(lines[l - 1])).Append("</pre>");
        }
        html.Append("<pre class=\"error-message\">").Append(PageLayout.Encode(error.Message)).Append("</pre></div>\n");
    }

    private static string LanguageClass(string kernel) => kernel switch
    {
        "csharp" => "csharp",
        "fsharp" => "fsharp",
        "pwsh" => "powershell",
        "javascript" => "javascript",
        "html" => "html",
        "mermaid" => "plaintext",
        _ => "plaintext",
    };

    private static void Pager(StringBuilder html, Lesson? previous, Lesson? next, string cssClass)
    {
        html.Append(CultureInfo.InvariantCulture, $"<nav class=\"pager {cssClass}\">");
        html.Append(previous is null ? "<span></span>"
            : $"<a class=\"prev\" href=\"{Uri.EscapeDataString(previous.FileName)}\">← {PageLayout.Encode(previous.Title)}</a>");
        html.Append(CultureInfo.InvariantCulture, $"<a class=\"up\" href=\"{SiteRenderer.IndexFileName}\">All lessons</a>");
        html.Append(next is null ? "<span></span>"
            : $"<a class=\"next\" href=\"{Uri.EscapeDataString(next.FileName)}\">{PageLayout.Encode(next.Title)} →</a>");
        html.Append("</nav>\n");
    }
}
