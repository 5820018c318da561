using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Tests.Support;

namespace CourseLib.Notebooks.Tests.Execution;

public class DisplayTests
{
    [Fact]
    public void Run_FinalExpressionWithoutSemicolon_IsDisplayed()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar s = \"abc\";\ns + \"def\"");

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        Assert.Equal(("display", "text/plain", "abcdef"), (output.Kind, output.MimeType, output.Value));
    }

    [Fact]
    public void Run_TrailingSemicolon_ShowsNothing()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvar s = \"abc\";\ns.ToUpperInvariant();");

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Empty(result.Cells[0].Outputs);
    }

    [Fact]
    public void Run_VoidCallAsLastLine_ShowsOnlyItsConsoleOutput()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nvoid Hello() => Console.WriteLine(\"hi\");\nHello()");

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        Assert.Equal(("stdout", "hi\n"), (output.Kind, output.Value.ReplaceLineEndings("\n")));
    }

    [Fact]
    public void Run_NullValue_IsDisplayedAsNull()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nstring? s = null;\ns");

        Assert.Equal("<null>", Assert.Single(result.Cells[0].Outputs).Value);
    }

    [Fact]
    public void Run_NumberValue_UsesTheFormattingLibrarysHtml()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\n6 * 7");

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        Assert.Equal("text/html", output.MimeType);
        Assert.Contains("<pre>42</pre>", output.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Display_ThenUpdate_ReplacesThatOutputInPlace()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            var first = display("one");
            var second = display("two");
            Console.WriteLine("between");
            first.Update("ONE");
            first.Update("uno");
            """);

        Assert.True(result.Succeeded, Run.Describe(result));
        IReadOnlyList<CellOutput> outputs = result.Cells[0].Outputs;
        Assert.Equal(["uno", "two", "between\n"], outputs.Select(o => o.Value.ReplaceLineEndings("\n")));
        Assert.Equal(["display", "display", "stdout"], outputs.Select(o => o.Kind));
        Assert.NotEqual(outputs[0].DisplayId, outputs[1].DisplayId);
        Assert.NotNull(outputs[0].DisplayId);
    }

    [Fact]
    public void Display_WithMimeType_FormatsForThatType()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\ndisplay(42, \"text/plain\");");

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        Assert.Equal(("text/plain", "42"), (output.MimeType, output.Value));
    }

    [Fact]
    public void Display_RegisteredHtmlFormatter_IsUsed()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            public record Money(decimal Amount);
            Formatter.Register<Money>((m, w) => w.Write($"<b>{m.Amount} EUR</b>"), "text/html");
            new Money(3.5m)
            """);

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        Assert.Equal(("text/html", "<b>3.5 EUR</b>"), (output.MimeType, output.Value));
    }

    [Fact]
    public void Run_ConsoleOutputAndErrors_AreCapturedPerCell()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            Console.Write("a");
            Console.WriteLine("b");
            Console.Error.WriteLine("oops");

            #!csharp
            System.Threading.Tasks.Task.Run(() => Console.WriteLine("from a thread")).Wait();
            """);

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Equal([("stdout", "ab\n"), ("stderr", "oops\n")], result.Cells[0].Outputs.Select(o => (o.Kind, o.Value.ReplaceLineEndings("\n"))));
        Assert.Equal([("stdout", "from a thread\n")], result.Cells[1].Outputs.Select(o => (o.Kind, o.Value.ReplaceLineEndings("\n"))));
    }

    [Fact]
    public void Run_ManyConsoleLines_MergeIntoOneOutput()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, "#!csharp\nfor (int i = 0; i < 50_000; i++) Console.WriteLine(i);");

        CellOutput output = Assert.Single(result.Cells[0].Outputs);
        string[] lines = output.Value.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(50_000, lines.Length);
        Assert.Equal("49999", lines[^1]);
        // Appending by copying the whole text each time would take minutes here.
        Assert.True(result.Cells[0].Seconds < 30, $"{result.Cells[0].Seconds} s");
    }

    [Fact]
    public void Run_StateAndUsings_CarryAcrossCells()
    {
        using var folder = new TempFolder();
        NotebookResult result = Run.Notebook(folder, """
            #!csharp
            using System.Globalization;
            int Twice(int x) => 2 * x;
            var n = 21;

            #!markdown
            Between the code.

            #!csharp
            Twice(n).ToString(CultureInfo.InvariantCulture)
            """);

        Assert.True(result.Succeeded, Run.Describe(result));
        Assert.Empty(result.Cells[1].Outputs);
        Assert.Equal("42", Assert.Single(result.Cells[2].Outputs).Value);
    }

    [Fact]
    public void Run_RelativePaths_ResolveFromTheNotebookFolder()
    {
        using var folder = new TempFolder();
        folder.Write("lesson/data.txt", "from the lesson folder");
        NotebookResult result = Run.Notebook(folder, "#!csharp\nSystem.IO.File.ReadAllText(\"data.txt\")", "lesson/n.dib");

        Assert.Equal("from the lesson folder", Assert.Single(result.Cells[0].Outputs).Value);
    }
}
