using System.Diagnostics;
using System.Globalization;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Cli;

/// <summary>The <c>run</c> verb: find notebooks, run each in a worker, report progress and a summary, write results.</summary>
public static class RunCommand
{
    /// <summary>Runs the notebooks and returns the exit code (0 all succeeded, 1 any failed, 2 nothing to run).</summary>
    public static int Run(RunOptions options, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        string? root = RepositoryRoot.Find();
        IReadOnlyList<string> notebooks;
        try
        {
            notebooks = FindNotebooks(options.Paths, root);
        }
        catch (FileNotFoundException e)
        {
            console.WriteLine($"error: {e.Message}");
            return 2;
        }

        if (notebooks.Count == 0)
        {
            console.WriteLine("error: no .dib notebooks found.");
            return 2;
        }

        string outputDir = Path.GetFullPath(options.OutputDirectory ?? Path.Combine(root ?? Directory.GetCurrentDirectory(), "artifacts", "run"));
        var client = new WorkerClient(options.CellTimeout, options.NuGetCache);
        var results = new List<NotebookResult>();
        var total = Stopwatch.StartNew();
        for (int i = 0; i < notebooks.Count; i++)
        {
            string path = notebooks[i];
            console.WriteLine($"[{i + 1}/{notebooks.Count}] {Display(path, root)}");
            NotebookResult result = RunOne(path, client, Path.Combine(outputDir, ResultFileName(path, root)), console);
            results.Add(result);
        }

        // Render: SiteRenderer.Render(results, siteDir)

        console.WriteLine();
        console.Write(Summary.Format(results, root));
        console.WriteLine($"Results: {outputDir}  ({total.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        return results.All(r => r.Succeeded) ? 0 : 1;
    }

    /// <summary>The notebooks named by the arguments (files, or folders searched recursively), sorted within each folder.</summary>
    /// <exception cref="FileNotFoundException">An argument names nothing that exists.</exception>
    public static IReadOnlyList<string> FindNotebooks(IReadOnlyList<string> paths, string? root)
    {
        ArgumentNullException.ThrowIfNull(paths);
        IEnumerable<string> inputs = paths.Count > 0
            ? paths
            : [Path.Combine(root ?? throw new FileNotFoundException("no notebooks given and no CourseLib.sln above the current directory to find notebooks/."), "notebooks")];
        var found = new List<string>();
        foreach (string input in inputs)
        {
            string full = Path.GetFullPath(input);
            if (File.Exists(full))
            {
                found.Add(full);
            }
            else if (Directory.Exists(full))
            {
                found.AddRange(Directory.EnumerateFiles(full, "*.dib", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            }
            else
            {
                throw new FileNotFoundException($"no such notebook or folder: {full}");
            }
        }

        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    private static NotebookResult RunOne(string path, WorkerClient client, string resultPath, TextWriter console)
    {
        NotebookDocument document;
        try
        {
            document = DibParser.ParseFile(path);
        }
        catch (Exception e) when (e is DibParseException or IOException or UnauthorizedAccessException)
        {
            var failed = new NotebookResult(new NotebookDocument(path, KernelNames.CSharp, [], []), [], 0, e.Message);
            ResultJson.Write(failed, resultPath);
            console.WriteLine($"    FAILED: {e.Message}");
            return failed;
        }

        var clock = Stopwatch.StartNew();
        bool lineOpen = false;
        NotebookResult result = client.Run(document, resultPath, ev =>
        {
            if (ev.Type == "started")
            {
                lineOpen = true;
                NotebookCell cell = document.Cells[ev.Cell - 1];
                console.Write($"    cell {ev.Cell}/{ev.Total} ({cell.Kernel}, line {cell.FirstLine}) ... ");
            }
            else if (ev.Result is { } r)
            {
                lineOpen = false;
                string status = r.Status == CellStatus.Succeeded ? "ok" : r.Status.ToString().ToUpperInvariant();
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{status} {r.Seconds:0.00} s  (elapsed {clock.Elapsed.TotalSeconds:0.0} s)"));
            }
        },
        running => console.Write(string.Create(CultureInfo.InvariantCulture, $"{running.TotalSeconds:0} s ... ")));

        if (result.Cells.FirstOrDefault(c => c.Status == CellStatus.Failed) is { Error: { } error })
        {
            if (lineOpen)
            {
                // The worker died or was killed mid-cell, so no "finished" line was printed for it.
                console.WriteLine("FAILED");
            }

            console.WriteLine("    " + error.Message.Replace("\n", "\n    ", StringComparison.Ordinal));
        }
        else if (result.FatalError is not null)
        {
            console.WriteLine("    FAILED: " + result.FatalError);
        }

        return result;
    }

    private static string ResultFileName(string notebook, string? root)
    {
        string relative = Display(notebook, root);
        return Path.ChangeExtension(relative.Replace('/', '_').Replace('\\', '_').Replace("..", "_", StringComparison.Ordinal), ".json");
    }

    internal static string Display(string path, string? root) =>
        root is not null && path.StartsWith(root, StringComparison.Ordinal) ? Path.GetRelativePath(root, path) : path;
}
