using System.Text.Json;
using CourseLib.Notebooks.Grading;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>The grade verb end to end: arguments, console table, files, exit code.</summary>
public class GradeCommandTests
{
    private static (int Code, string Output, string Folder) Run(params string[] extra)
    {
        string folder = Path.Combine(Path.GetTempPath(), "courselib-grade-cmd-" + Guid.NewGuid().ToString("N"));
        var output = new StringWriter();
        int code = GradeCommand.Run([GradingPaths.SampleNotebook, "--out", folder, "--timeout", "15", .. extra], output);
        return (code, output.ToString(), folder);
    }

    [Fact]
    public void Run_OneIdWithSolutions_PassesAndWritesMarkdownAndJson()
    {
        (int code, string output, string folder) = Run("--id", "3.2", "--solutions", GradingPaths.Solutions);
        try
        {
            Assert.Equal(0, code);
            Assert.Matches(@"3\.2\s+LayerNorm backward \(dx, dγ, dβ\)\s+passed\s+3/3", output);
            Assert.Contains("Total", output, StringComparison.Ordinal);
            Assert.Contains("| 3.2 | LayerNorm backward (dx, dγ, dβ) | passed | 3/3 |", File.ReadAllText(Path.Combine(folder, "grades.md")), StringComparison.Ordinal);
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "grades.json")));
            Assert.Single(json.RootElement.GetProperty("exercises").EnumerateArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Run_Stubs_ExitCodeOneAndNotAttempted()
    {
        (int code, string output, string folder) = Run("--id", "2.1");
        try
        {
            Assert.Equal(1, code);
            Assert.Matches(@"2\.1\s+GELU \(exact\) forward\s+not attempted\s+0/1", output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("--timeout", "zero")]
    [InlineData("--bogus")]
    [InlineData("no-such-notebook.dib")]
    public void Run_BadArguments_ExitCodeTwo(params string[] args)
    {
        Assert.Equal(2, GradeCommand.Run(args, new StringWriter()));
    }
}
