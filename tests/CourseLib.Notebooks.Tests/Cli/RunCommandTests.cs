using CourseLib.Notebooks.Cli;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Tests.Support;

namespace CourseLib.Notebooks.Tests.Cli;

public class RunCommandTests
{
    [Fact]
    public void Run_FailingNotebook_ExitsNonZeroAndPointsAtCellAndLine()
    {
        using var folder = new TempFolder();
        string good = folder.Write("a-good.dib", "#!csharp\nConsole.WriteLine(\"fine\");\n");
        string bad = folder.Write("b-bad.dib", "#!markdown\n# Broken\n\n#!csharp\nvar x = 1;\nvar y = x / 0;\n");
        string outDir = Path.Combine(folder.Path, "out");

        (int exit, string output, _) = RunnerProcess.Run(TimeSpan.FromMinutes(3), "run", folder.Path, "--out", outDir, "--site", Path.Combine(folder.Path, "site"));

        Assert.Equal(1, exit);
        Assert.Contains("b-bad.dib: cell 2", output, StringComparison.Ordinal);
        Assert.Contains("System.DivideByZeroException", output, StringComparison.Ordinal);
        Assert.Contains("file line 6", output, StringComparison.Ordinal);
        NotebookResult goodResult = ResultJson.Read(Path.Combine(outDir, Path.ChangeExtension(good, ".json").Replace('/', '_')));
        NotebookResult badResult = ResultJson.Read(Path.Combine(outDir, Path.ChangeExtension(bad, ".json").Replace('/', '_')));
        Assert.True(goodResult.Succeeded);
        Assert.Equal(6, badResult.Cells[1].Error!.LineInFile);
    }

    [Fact]
    public void Run_EndlessCell_IsStoppedAtTheTimeoutAndTheNextNotebookStillRuns()
    {
        using var folder = new TempFolder();
        folder.Write("a-loop.dib", "#!csharp\nvar started = true;\n\n#!csharp\nwhile (true) { }\n\n#!csharp\nvar never = 1;\n");
        folder.Write("b-after.dib", "#!csharp\n1 + 1\n");
        string outDir = Path.Combine(folder.Path, "out");

        (int exit, string output, TimeSpan elapsed) = RunnerProcess.Run(TimeSpan.FromMinutes(2), "run", folder.Path, "--out", outDir, "--site", Path.Combine(folder.Path, "site"), "--cell-timeout", "5");

        Assert.Equal(1, exit);
        // Two worker starts plus a 5 s timeout: far below the 2-minute guard even on a busy machine.
        Assert.True(elapsed < TimeSpan.FromSeconds(75), $"took {elapsed}");
        Assert.Contains("cell timeout", output, StringComparison.Ordinal);
        NotebookResult loop = ResultJson.Read(Directory.GetFiles(outDir, "*a-loop.json").Single());
        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun], loop.Cells.Select(c => c.Status));
        Assert.Equal(("timeout", 5), (loop.Cells[1].Error!.Kind, loop.Cells[1].Error!.LineInFile));
        Assert.True(ResultJson.Read(Directory.GetFiles(outDir, "*b-after.json").Single()).Succeeded);
    }

    [Fact]
    public void Run_Help_PrintsUsage()
    {
        (int exit, string output, _) = RunnerProcess.Run(TimeSpan.FromMinutes(1), "--help");

        Assert.Equal(0, exit);
        Assert.Contains("CourseLib.Notebooks run [<notebook.dib | folder>...]", output, StringComparison.Ordinal);
        Assert.Contains("--cell-timeout", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadTimeout_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--cell-timeout", "-3"]));
        Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--bogus"]));
        Assert.Equal(TimeSpan.FromSeconds(2.5), RunOptions.Parse(["x.dib", "--cell-timeout", "2.5"]).CellTimeout);
    }

    [Fact]
    public void Notebooks_AllInCourseFolder_RunWithoutFailures()
    {
        string courseFolder = Path.Combine(Course.Root, "notebooks");
        string[] lessons = Directory.Exists(courseFolder) ? Directory.GetFiles(courseFolder, "*.dib", SearchOption.AllDirectories) : [];
        // Before the first lesson lands, the sample lesson exercises the same path (packages, Release library, TorchSharp).
        string target = lessons.Length > 0 ? courseFolder : Course.TestNotebooks;
        string[] notebooks = lessons.Length > 0 ? lessons : Directory.GetFiles(target, "*.dib");
        Assert.NotEmpty(notebooks);
        RunnerProcess.BuildReleaseLibrariesReferencedBy(notebooks);
        using var folder = new TempFolder();

        (int exit, string output, _) = RunnerProcess.Run(TimeSpan.FromMinutes(20), "run", target, "--out", folder.Path, "--site", Path.Combine(folder.Path, "site"));

        Assert.True(exit == 0, output);
        NotebookResult[] results = Directory.GetFiles(folder.Path, "*.json").Select(ResultJson.Read).ToArray();
        Assert.Equal(notebooks.Length, results.Length);
        Assert.All(results, r => Assert.True(r.Succeeded, $"{r.Document.Path}:\n{string.Join("\n", r.Cells.Select(c => c.Error?.Message).OfType<string>())}"));
    }
}
