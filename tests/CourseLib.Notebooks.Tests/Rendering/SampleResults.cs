using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Tests.Rendering;

/// <summary>Builds NotebookResults by hand, as the runner would produce them.</summary>
internal static class SampleResults
{
    public static NotebookCell Markdown(int number, string source) => new(number, "markdown", source, number * 10);

    public static NotebookCell Code(int number, string source) => new(number, "csharp", source, number * 10);

    public static CellResult Ok(int number, params CellOutput[] outputs) => new(number, CellStatus.Succeeded, outputs, 0.25);

    public static CellOutput Text(string value) => new("display", "text/plain", value, "d1");

    public static CellOutput Html(string value) => new("display", "text/html", value, "d2");

    public static CellOutput Stdout(string value) => new("stdout", "text/plain", value);

    public static NotebookResult Notebook(string fileName, IReadOnlyList<NotebookCell> cells, IReadOnlyList<CellResult> results,
        double seconds = 1.5, string? fatal = null) =>
        new(new NotebookDocument($"/course/notebooks/{fileName}", "csharp", cells, []), results, seconds, fatal);

    /// <summary>A two-cell notebook that passed: a heading and a cell printing something.</summary>
    public static NotebookResult Passing(string fileName, string title) =>
        Notebook(fileName,
            [Markdown(1, $"# {title}\n\nSome text."), Code(2, "Console.WriteLine(1);")],
            [Ok(1), Ok(2, Stdout("1\n"))]);

    /// <summary>Renders into a fresh temporary folder and returns it.</summary>
    public static string RenderToTemp(params NotebookResult[] results)
    {
        string dir = Path.Combine(Path.GetTempPath(), "courselib-render-" + Guid.NewGuid().ToString("N"));
        CourseLib.Notebooks.Rendering.SiteRenderer.Render(results, dir);
        return dir;
    }
}
