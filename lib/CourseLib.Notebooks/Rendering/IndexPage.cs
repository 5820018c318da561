using System.Globalization;
using System.Text;

namespace CourseLib.Notebooks.Rendering;

/// <summary>The course's front page: every lesson in order, with how its last run went.</summary>
internal static class IndexPage
{
    public static string Render(IReadOnlyList<Lesson> lessons)
    {
        var html = new StringBuilder();
        PageLayout.Begin(html, $"{PageLayout.CourseName} — lessons", withPlotly: false);
        html.Append("""
            <main class="index">
            <h1>Lessons</h1>
            <p class="index-lede">A hands-on C# course on the half of a transformer that is not attention: feed-forward layers,
            LayerNorm and RMSNorm, residual connections and where the norm goes, built as fast, verified kernels and checked
            against libtorch. These pages are the notebooks as they last ran, outputs included.</p>

            """);
        int passed = lessons.Count(l => l.Result.Succeeded);
        html.Append(CultureInfo.InvariantCulture,
            $"<p class=\"index-summary\">{lessons.Count} {(lessons.Count == 1 ? "notebook" : "notebooks")} · {passed} passed · {lessons.Count - passed} failed · {PageLayout.Seconds(lessons.Sum(l => l.Result.Seconds))} in all</p>\n");
        html.Append("<table class=\"lessons\">\n<thead><tr><th>Lesson</th><th>Notebook</th><th>Status</th><th class=\"num\">Cells</th><th class=\"num\">Time</th></tr></thead>\n<tbody>\n");
        foreach (var lesson in lessons)
        {
            string status = lesson.Status;
            if (lesson.Result.FatalError is not null)
            {
                status += " (did not run)";
            }
            else if (lesson.FirstFailure is { } failed)
            {
                status += $" at cell {failed.Number}";
            }
            int cells = lesson.Result.Document.Cells.Count;
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr class="{lesson.Status}"><td><a href="{Uri.EscapeDataString(lesson.FileName)}">{PageLayout.Encode(lesson.Title)}</a></td><td><code>{PageLayout.Encode(lesson.SourceName)}</code></td><td><span class="status {lesson.Status}">{status}</span></td><td class="num" title="{lesson.CodeCells} code, {cells - lesson.CodeCells} markdown">{cells} ({lesson.CodeCells} code)</td><td class="num">{PageLayout.Seconds(lesson.Result.Seconds)}</td></tr>

                """);
        }
        html.Append("</tbody>\n</table>\n</main>\n");
        PageLayout.End(html);
        return html.ToString();
    }
}
