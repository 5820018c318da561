using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Tests.Support;

namespace CourseLib.Notebooks.Tests.Execution;

public class ErrorLocationTests
{
    // File lines: 1 "#!csharp", 2 "", 3 "var a = 1;", 4 "", 5 "#!csharp", 6 "", then cell 2 starts on line 7.
    private const string Preamble = "#!csharp\n\nvar a = 1;\n";

    [Fact]
    public void Run_CompileErrorOnLine3OfCell2_ReportsCellLineAndFileLine()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, Preamble + "\n#!csharp\n\nvar b = 2;\n// a comment\nint c = undefinedName;\nvar d = 4;\n\n#!csharp\nvar e = 5;");

        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun], result.Cells.Select(c => c.Status));
        CellError error = result.Cells[1].Error!;
        Assert.Equal(("compile", 3, 9), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("CS0103", error.Message, StringComparison.Ordinal);
        Assert.Contains("undefinedName", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.dib: cell 2, line 3 (file line 9)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_CompileErrorAfterHoistedDirectives_KeepsTheCellLine()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\n#!time\n#r \"nuget: CommandLineParser, 2.9.1\"\nvar ok = 1;\nvar bad = ok +;\n");

        CellError error = result.Cells[0].Error!;
        Assert.Equal(("compile", 4, 5), (error.Kind, error.LineInCell, error.LineInFile));
    }

    [Fact]
    public void Run_ExceptionOnAKnownLine_ReportsThatLine()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, Preamble + "\n#!csharp\nvar list = new List<int>();\nlist.Add(1);\nthrow new InvalidOperationException(\"boom at line 3\");\n");

        CellError error = result.Cells[1].Error!;
        Assert.Equal(("exception", 3, 8), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("System.InvalidOperationException: boom at line 3", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CourseLib.Notebooks.Execution", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ExceptionInsideLibraryCode_ReportsTheCellLineThatCalledIt()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar text = \"x\";\n\nint.Parse(text)\n");

        CellError error = result.Cells[0].Error!;
        Assert.Equal(("exception", 3, 4), (error.Kind, error.LineInCell, error.LineInFile));
        Assert.Contains("FormatException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ExceptionInAMethodFromAnEarlierCell_ReportsTheLineInTheFailingCell()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvoid Fail() => throw new ArgumentException(\"bad\");\n\n#!csharp\nvar x = 1;\nFail();\n");

        CellError error = result.Cells[1].Error!;
        Assert.Equal(("exception", 2, 6), (error.Kind, error.LineInCell, error.LineInFile));
    }
}
