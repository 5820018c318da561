using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Rendering;

/// <summary>A notebook result with what the site needs around it: its page name and title.</summary>
internal sealed record Lesson(NotebookResult Result, string FileName, string Title)
{
    /// <summary>The notebook's file name, e.g. "00-welcome.dib".</summary>
    public string SourceName => Path.GetFileName(Result.Document.Path);

    /// <summary>"passed", "failed" — also the CSS class.</summary>
    public string Status => Result.Succeeded ? "passed" : "failed";

    /// <summary>The first failed cell, if any.</summary>
    public CellResult? FirstFailure => Result.Cells.FirstOrDefault(c => c.Status == CellStatus.Failed);

    public int CodeCells => Result.Document.Cells.Count(c => c.Kernel != "markdown");

    public static List<Lesson> FromResults(IReadOnlyList<NotebookResult> results)
    {
        var lessons = new List<Lesson>(results.Count);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { SiteRenderer.IndexFileName };
        foreach (var result in results)
        {
            ArgumentNullException.ThrowIfNull(result, nameof(results));
            string stem = Path.GetFileNameWithoutExtension(result.Document.Path);
            string fileName = stem + ".html";
            // Two notebooks with one name in different folders must not overwrite each other's page.
            for (int n = 2; !used.Add(fileName); n++)
            {
                fileName = $"{stem}-{n}.html";
            }
            lessons.Add(new Lesson(result, fileName, TitleOf(result.Document) ?? stem));
        }
        return lessons;
    }

    private static string? TitleOf(NotebookDocument document) =>
        document.Cells.Where(c => c.Kernel == "markdown")
            .Select(c => MarkdownRenderer.FirstHeading(c.Source))
            .FirstOrDefault(t => t is not null);
}
