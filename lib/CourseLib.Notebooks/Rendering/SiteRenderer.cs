using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Rendering;

/// <summary>
/// Writes the course site: one HTML page per notebook and an index, with math, code highlighting and charts
/// working offline (every script and font is a relative link into <c>assets/</c>), so the site opens from
/// <c>file://</c> in any browser.
/// </summary>
public static class SiteRenderer
{
    /// <summary>File name of the site's index page.</summary>
    public const string IndexFileName = "index.html";

    /// <summary>
    /// Renders <paramref name="results"/>, in the given order (the lesson order: it sets the index and the
    /// previous/next links), into <paramref name="siteDir"/>, creating it if needed. Writes
    /// <c>index.html</c>, one <c>&lt;notebook-name&gt;.html</c> per notebook and <c>assets/</c>; existing files
    /// of the same names are replaced, nothing else is deleted.
    /// </summary>
    /// <param name="results">One result per notebook, as the runner produced them.</param>
    /// <param name="siteDir">Output folder, e.g. <c>artifacts/site</c>.</param>
    /// <returns>Full path of the index page.</returns>
    /// <exception cref="ArgumentException"><paramref name="siteDir"/> is empty.</exception>
    public static string Render(IReadOnlyList<NotebookResult> results, string siteDir)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentException.ThrowIfNullOrWhiteSpace(siteDir);

        string root = Path.GetFullPath(siteDir);
        Directory.CreateDirectory(root);
        SiteAssets.WriteTo(root);

        var lessons = Lesson.FromResults(results);
        for (int i = 0; i < lessons.Count; i++)
        {
            string html = LessonPage.Render(lessons[i], i > 0 ? lessons[i - 1] : null, i + 1 < lessons.Count ? lessons[i + 1] : null);
            File.WriteAllText(Path.Combine(root, lessons[i].FileName), html);
        }

        string index = Path.Combine(root, IndexFileName);
        File.WriteAllText(index, IndexPage.Render(lessons));
        return index;
    }
}
