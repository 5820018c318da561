using CourseLib.Notebooks.Execution;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Tests.Support;

/// <summary>Runs notebook text in this process with the executor the workers use.</summary>
internal static class Run
{
    /// <summary>A NuGet cache shared by the tests of one run (restores are slow; the cache is what makes them cheap).</summary>
    public static string NuGetCache { get; } = Path.Combine(Path.GetTempPath(), "courselib-nb-tests-nuget");

    public static NotebookResult Notebook(TempFolder folder, string text, string name = "test.dib", string? nugetCache = null)
    {
        string path = folder.Write(name, text);
        return new NotebookExecutor(new NuGetRestorer(nugetCache ?? NuGetCache)).Run(DibParser.ParseFile(path));
    }

    /// <summary>The failure message with every cell's result, for assertion messages.</summary>
    public static string Describe(NotebookResult result) =>
        string.Join("\n", result.Cells.Select(c => $"cell {c.Number}: {c.Status} {c.Error?.Kind} {c.Error?.Message}"));
}
