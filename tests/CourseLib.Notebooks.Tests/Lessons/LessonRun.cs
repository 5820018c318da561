using System.Globalization;
using System.Text.RegularExpressions;
using CourseLib.Checks;
using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Execution;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;
using CourseLib.Notebooks.Tests.Support;
using CourseLib.Torch;

namespace CourseLib.Notebooks.Tests.Lessons;

/// <summary>
/// One lesson notebook run to the end through the runner's executor, exercises unsolved as committed, and what its
/// cells printed. Claim tests read the numbers the text talks about from these printed lines, so a lesson cannot
/// silently stop showing what it says.
/// </summary>
public sealed class LessonRun
{
    private LessonRun(NotebookResult result)
    {
        Result = result;
        Stdout = string.Join("\n", result.Cells.SelectMany(c => c.Outputs).Where(o => o.Kind == "stdout").Select(o => o.Value));
    }

    /// <summary>The executor's result for every cell.</summary>
    public NotebookResult Result { get; }

    /// <summary>Everything the cells wrote to standard output, in order.</summary>
    public string Stdout { get; }

    /// <summary>
    /// Runs notebooks/<paramref name="fileName"/>. The committed #r lines point at the Release build; they are
    /// pointed at the assemblies this test runs with, so the test holds for any configuration. The document keeps
    /// its path in notebooks/, so the working directory and relative paths are the lesson's own.
    /// </summary>
    public static LessonRun Of(string fileName)
    {
        string path = Path.Combine(Course.Root, "notebooks", fileName);
        string text = File.ReadAllText(path)
            .Replace("../artifacts/bin/CourseLib/release/CourseLib.dll", typeof(GradientChecker).Assembly.Location, StringComparison.Ordinal)
            .Replace("../artifacts/bin/CourseLib.Interactive/release/CourseLib.Interactive.dll", typeof(Exercise).Assembly.Location, StringComparison.Ordinal)
            .Replace("../artifacts/bin/CourseLib.Torch/release/CourseLib.Torch.dll", typeof(TorchInterop).Assembly.Location, StringComparison.Ordinal);
        NotebookDocument doc = DibParser.Parse(text, path);
        var run = new LessonRun(new NotebookExecutor(new NuGetRestorer(Run.NuGetCache)).Run(doc));
        CellResult? failed = run.Result.Cells.FirstOrDefault(c => c.Status != CellStatus.Succeeded);
        if (!run.Result.Succeeded)
        {
            throw new InvalidOperationException($"{fileName} did not run to the end: {(failed is null ? run.Result.FatalError : $"cell {failed.Number}: {failed.Error?.Message}")}");
        }

        return run;
    }

    /// <summary>The groups of the first line matching <paramref name="pattern"/>; fails the test when none does.</summary>
    public Match Line(string pattern)
    {
        Match m = Regex.Match(Stdout, pattern, RegexOptions.Multiline);
        Assert.True(m.Success, $"No printed line matches /{pattern}/. The lesson printed:\n{Stdout}");
        return m;
    }

    /// <summary>Every line matching <paramref name="pattern"/>.</summary>
    public IReadOnlyList<Match> Lines(string pattern)
    {
        Match[] all = Regex.Matches(Stdout, pattern, RegexOptions.Multiline).ToArray();
        Assert.True(all.Length > 0, $"No printed line matches /{pattern}/. The lesson printed:\n{Stdout}");
        return all;
    }

    /// <summary>The number in group <paramref name="group"/> of the first line matching <paramref name="pattern"/>.</summary>
    public double Number(string pattern, int group = 1) => Parse(Line(pattern).Groups[group].Value);

    /// <summary>A printed number ("1.8e-7", "0.666667", "7,087,872", "NaN").</summary>
    public static double Parse(string text) =>
        double.Parse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
}
