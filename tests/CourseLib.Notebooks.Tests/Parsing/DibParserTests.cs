using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Tests.Parsing;

public class DibParserTests
{
    private static NotebookDocument Parse(string text) => DibParser.Parse(text, "/course/x.dib");

    [Fact]
    public void Parse_CrlfAndLf_GiveSameCellsWithLfSource()
    {
        const string lf = "#!csharp\n\nvar a = 1;\nvar b = 2;\n\n#!markdown\n\n# Title\n";
        NotebookDocument fromLf = Parse(lf);
        NotebookDocument fromCrlf = Parse(lf.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.Equal(2, fromLf.Cells.Count);
        Assert.Equal(fromLf.Cells, fromCrlf.Cells);
        Assert.Equal("var a = 1;\nvar b = 2;", fromCrlf.Cells[0].Source);
        Assert.Equal(("csharp", 3), (fromCrlf.Cells[0].Kernel, fromCrlf.Cells[0].FirstLine));
        Assert.Equal(("markdown", "# Title", 8), (fromCrlf.Cells[1].Kernel, fromCrlf.Cells[1].Source, fromCrlf.Cells[1].FirstLine));
    }

    [Fact]
    public void Parse_MetaBlock_SetsDefaultKernelAndDeclaresSeparators()
    {
        const string text = """
            #!meta

            {"kernelInfo":{"defaultKernelName":"fsharp","items":[{"name":"csharp","aliases":[]},{"name":"mydb","aliases":["db"],"languageName":"SQL"}]}}

            #!db

            select 1

            #!mydb
            select 2
            """;
        NotebookDocument doc = Parse(text);

        Assert.Equal("fsharp", doc.DefaultKernel);
        Assert.Equal(["mydb", "db"], doc.KernelNames);
        Assert.Equal([("mydb", "select 1", 7), ("mydb", "select 2", 10)], doc.Cells.Select(c => (c.Kernel, c.Source, c.FirstLine)));
    }

    [Fact]
    public void Parse_TextBeforeFirstSeparator_BelongsToDefaultKernel()
    {
        NotebookDocument doc = Parse("\nConsole.WriteLine(1);\n#!markdown\nhi");

        Assert.Equal([("csharp", "Console.WriteLine(1);", 2), ("markdown", "hi", 4)], doc.Cells.Select(c => (c.Kernel, c.Source, c.FirstLine)));
    }

    [Theory]
    [InlineData("c#", "csharp")]
    [InlineData("C#", "csharp")]
    [InlineData("cs", "csharp")]
    [InlineData("md", "markdown")]
    [InlineData("f#", "fsharp")]
    [InlineData("fs", "fsharp")]
    [InlineData("js", "javascript")]
    [InlineData("powershell", "pwsh")]
    [InlineData("mermaid", "mermaid")]
    [InlineData("html", "html")]
    [InlineData("value", "value")]
    [InlineData("sql", "sql")]
    [InlineData("kql", "kql")]
    public void Parse_KernelAlias_IsSeparatorWithCanonicalName(string alias, string canonical)
    {
        NotebookDocument doc = Parse($"#!markdown\nintro\n#!{alias}\nbody");

        Assert.Equal([("markdown", "intro"), (canonical, "body")], doc.Cells.Select(c => (c.Kernel, c.Source)));
    }

    [Fact]
    public void Parse_SeparatorWithTrailingSpace_IsNotASeparator()
    {
        // CodeSubmission looks the name up exactly, so "#!markdown " stays in the cell as a (magic) line.
        NotebookDocument doc = Parse("#!csharp\nvar a = 1;\n#!markdown \n# not a new cell");

        NotebookCell cell = Assert.Single(doc.Cells);
        Assert.Equal("var a = 1;\n#!markdown \n# not a new cell", cell.Source);
    }

    [Fact]
    public void Parse_WhitespaceOnlyLines_AreKeptAtCellEnds()
    {
        NotebookDocument doc = Parse("#!csharp\n\n  \nvar a = 1;\n\t\n\n#!markdown\n\n\nx");

        Assert.Equal("  \nvar a = 1;\n\t", doc.Cells[0].Source);
        Assert.Equal(3, doc.Cells[0].FirstLine);
        Assert.Equal(("x", 10), (doc.Cells[1].Source, doc.Cells[1].FirstLine));
    }

    [Fact]
    public void Parse_EmptyCells_AreDroppedAndNumbersStayConsecutive()
    {
        NotebookDocument doc = Parse("#!csharp\n\n#!markdown\n\n\n#!csharp\n1\n#!fsharp\n#!csharp\n2");

        Assert.Equal([(1, "1"), (2, "2")], doc.Cells.Select(c => (c.Number, c.Source)));
    }

    [Fact]
    public void Parse_MagicCommands_StayInTheCell()
    {
        NotebookDocument doc = Parse("#!csharp\n#!time\n#!import other.dib\n#r \"nuget: X, 1.0\"\nvar a = 1;");

        NotebookCell cell = Assert.Single(doc.Cells);
        Assert.Equal("#!time\n#!import other.dib\n#r \"nuget: X, 1.0\"\nvar a = 1;", cell.Source);
        Assert.Equal(2, cell.FirstLine);
    }

    [Fact]
    public void Parse_SeparatorNamesAreCaseSensitive_UnknownCaseIsMagic()
    {
        NotebookDocument doc = Parse("#!csharp\n1\n#!CSharp\n2");

        Assert.Equal("1\n#!CSharp\n2", Assert.Single(doc.Cells).Source);
    }

    [Fact]
    public void Parse_InvalidMetaJson_ThrowsWithFileAndLine()
    {
        var e = Assert.Throws<DibParseException>(() => Parse("#!meta\n{not json\n#!csharp\n1"));

        Assert.Contains("/course/x.dib:1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyFile_HasNoCells()
    {
        Assert.Empty(Parse("").Cells);
        Assert.Empty(Parse("\n\n\r\n").Cells);
    }
}
