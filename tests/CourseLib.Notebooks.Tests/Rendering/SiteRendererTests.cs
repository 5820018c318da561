using System.Text.RegularExpressions;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Rendering;
using static CourseLib.Notebooks.Tests.Rendering.SampleResults;

namespace CourseLib.Notebooks.Tests.Rendering;

public sealed class SiteRendererTests : IDisposable
{
    private readonly List<string> _dirs = [];

    public void Dispose()
    {
        foreach (string dir in _dirs)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private string Render(params NotebookResult[] results)
    {
        string dir = RenderToTemp(results);
        _dirs.Add(dir);
        return dir;
    }

    private string RenderPage(NotebookResult result)
    {
        string dir = Render(result);
        return File.ReadAllText(Path.Combine(dir, Path.GetFileNameWithoutExtension(result.Document.Path) + ".html"));
    }

    [Fact]
    public void Render_PlainTextOutputAndStdout_AreEscapedInsidePre()
    {
        var nb = Notebook("01-a.dib", [Code(1, "x")], [Ok(1, Text("List<int> { 1 } & <b>"), Stdout("a<b>\n"))]);

        string page = RenderPage(nb);

        Assert.Contains("<pre class=\"output display text\">List&lt;int&gt; { 1 } &amp; &lt;b&gt;</pre>", page, StringComparison.Ordinal);
        Assert.Contains("<pre class=\"output stdout\">a&lt;b&gt;</pre>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_CodeSource_IsEscapedAndMarkedAsCSharp()
    {
        string page = RenderPage(Notebook("01-a.dib", [Code(1, "var ok = 1 < 2 && \"</pre>\" != null;")], [Ok(1)]));

        Assert.Contains("<pre class=\"source\"><code class=\"language-csharp\">var ok = 1 &lt; 2 &amp;&amp; &quot;&lt;/pre&gt;&quot; != null;</code></pre>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_HtmlOutput_IsInsertedAsIs()
    {
        string page = RenderPage(Notebook("01-a.dib", [Code(1, "x")], [Ok(1, Html("<table class=\"t\"><tr><td>1</td></tr></table>"))]));

        Assert.Contains("<div class=\"output display html\"><table class=\"t\"><tr><td>1</td></tr></table></div>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ConsecutiveStdoutChunks_AreOneBlock()
    {
        string page = RenderPage(Notebook("01-a.dib", [Code(1, "x")], [Ok(1, Stdout("a\n"), Stdout("b\n"), Text("v"), Stdout("c\n"))]));

        Assert.Contains("<pre class=\"output stdout\">a\nb</pre>", page, StringComparison.Ordinal);
        Assert.Contains("<pre class=\"output stdout\">c</pre>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FailedCell_ShowsKindCellLineSourceLineAndMessage()
    {
        var nb = Notebook("03-ffn.dib",
            [Markdown(1, "# FFN"), Code(2, "int a = 1;\nint b = \"x\";\nConsole.WriteLine(b);"), Code(3, "a + b")],
            [Ok(1), new CellResult(2, CellStatus.Failed, [], 0.1, new CellError("compile", "CS0029: Cannot implicitly convert type 'string' to 'int'", 2, 21)),
             new CellResult(3, CellStatus.NotRun, [], 0)]);

        string page = RenderPage(nb);

        Assert.Contains("<p class=\"error-title\">Compile error in 03-ffn.dib, cell 2, line 2 (line 21 of the file)</p>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"line-number\">2</span> int b = &quot;x&quot;;</pre>", page, StringComparison.Ordinal);
        Assert.Contains("CS0029: Cannot implicitly convert type &#39;string&#39; to &#39;int&#39;", page, StringComparison.Ordinal);
        Assert.Contains("<section class=\"cell code-cell failed\" id=\"cell-2\">", page, StringComparison.Ordinal);
        // The banner at the top points at the failing cell.
        Assert.Matches("Cell 2 failed.*<a href=\"#cell-2\">", page);
        Assert.Contains("<span class=\"status failed\">failed</span>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_CellsAfterFailure_AreMarkedNotRunWithoutTimes()
    {
        var nb = Notebook("03-ffn.dib",
            [Code(1, "throw new Exception(\"boom\");"), Code(2, "1"), Markdown(3, "text")],
            [new CellResult(1, CellStatus.Failed, [], 0.1, new CellError("exception", "System.Exception: boom", 1, 10)),
             new CellResult(2, CellStatus.NotRun, [], 0), new CellResult(3, CellStatus.NotRun, [], 0)]);

        string page = RenderPage(nb);

        Assert.Contains("<section class=\"cell code-cell not-run\" id=\"cell-2\">", page, StringComparison.Ordinal);
        Assert.Contains("not run: an earlier cell failed", page, StringComparison.Ordinal);
        Assert.Contains("<section class=\"cell markdown-cell not-run\" id=\"cell-3\">", page, StringComparison.Ordinal);
        Assert.Contains("Exception in 03-ffn.dib, cell 1, line 1", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_FatalError_IsShownAtTheTop()
    {
        var nb = Notebook("09-x.dib", [Code(1, "1")], [new CellResult(1, CellStatus.NotRun, [], 0)], fatal: "worker crashed: <signal 11>");

        string page = RenderPage(nb);

        Assert.Contains("This notebook could not be run</p><pre>worker crashed: &lt;signal 11&gt;</pre>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_MarkdownWithMath_MarksInlineAndDisplayMathForKaTeX()
    {
        var nb = Notebook("02-ln.dib", [Markdown(1, "# LayerNorm\n\nThe mean $\\mu$ of $x<y$.\n\n$$\ny = \\frac{x-\\mu}{\\sigma}\n$$\n\nand $$z=1$$ too.")], [Ok(1)]);

        string page = RenderPage(nb);

        Assert.Contains("<span class=\"math\">\\(\\mu\\)</span>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"math\">\\(x&lt;y\\)</span>", page, StringComparison.Ordinal);
        Assert.Contains("<div class=\"math\">\n\\[\ny = \\frac{x-\\mu}{\\sigma}\n\\]</div>", page, StringComparison.Ordinal);
        Assert.Contains("<span class=\"math math-display\">\\(z=1\\)</span>", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Index_ListsLessonsInOrderWithTitleStatusCellsAndSeconds()
    {
        var failed = Notebook("02-b.dib", [Markdown(1, "Intro without heading\n\n## Second *lesson*"), Code(2, "x")],
            [Ok(1), new CellResult(2, CellStatus.Failed, [], 0, new CellError("timeout", "ran past 60 s", null, null))], seconds: 61);

        string dir = Render(Passing("01-a.dib", "First lesson"), failed);
        string index = File.ReadAllText(Path.Combine(dir, SiteRenderer.IndexFileName));

        var rows = Regex.Matches(index, "<tr class=\"(\\w+)\"><td><a href=\"([^\"]+)\">([^<]+)</a></td><td><code>([^<]+)</code></td><td><span class=\"status \\w+\">([^<]+)</span></td><td[^>]*>([^<]+)</td><td class=\"num\">([^<]+)</td></tr>");
        Assert.Equal(2, rows.Count);
        Assert.Equal(["passed", "01-a.html", "First lesson", "01-a.dib", "passed", "2 (1 code)", "1.50 s"], rows[0].Groups.Values.Skip(1).Select(g => g.Value));
        Assert.Equal(["failed", "02-b.html", "Second lesson", "02-b.dib", "failed at cell 2", "2 (1 code)", "61.0 s"], rows[1].Groups.Values.Skip(1).Select(g => g.Value));
        Assert.Contains("2 notebooks · 1 passed · 1 failed", index, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NotebookWithoutHeading_IsTitledByItsFileName()
    {
        string dir = Render(Notebook("07-plain.dib", [Code(1, "1")], [Ok(1)]));

        Assert.Contains(">07-plain</a>", File.ReadAllText(Path.Combine(dir, SiteRenderer.IndexFileName)), StringComparison.Ordinal);
        Assert.Contains("<title>07-plain · CourseLib</title>", File.ReadAllText(Path.Combine(dir, "07-plain.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_ThreeLessons_LinksPreviousAndNext()
    {
        string dir = Render(Passing("00-w.dib", "Welcome"), Passing("01-f.dib", "FFN"), Passing("02-l.dib", "LayerNorm"));

        string first = File.ReadAllText(Path.Combine(dir, "00-w.html"));
        string middle = File.ReadAllText(Path.Combine(dir, "01-f.html"));
        string last = File.ReadAllText(Path.Combine(dir, "02-l.html"));
        Assert.DoesNotContain("class=\"prev\"", first, StringComparison.Ordinal);
        Assert.Contains("<a class=\"next\" href=\"01-f.html\">FFN →</a>", first, StringComparison.Ordinal);
        Assert.Contains("<a class=\"prev\" href=\"00-w.html\">← Welcome</a>", middle, StringComparison.Ordinal);
        Assert.Contains("<a class=\"next\" href=\"02-l.html\">LayerNorm →</a>", middle, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"next\"", last, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_TwoNotebooksWithOneName_GetDistinctPages()
    {
        var a = Passing("01-a.dib", "A");
        var b = a with { Document = a.Document with { Path = "/other/01-a.dib" } };

        string dir = Render(a, b);

        Assert.True(File.Exists(Path.Combine(dir, "01-a.html")));
        Assert.True(File.Exists(Path.Combine(dir, "01-a-2.html")));
    }

    [Fact]
    public void Render_Site_WritesOfflineAssetsAndLinksThemRelatively()
    {
        string dir = Render(Passing("01-a.dib", "A"));

        string plotly = File.ReadAllText(Path.Combine(dir, "assets", "plotly.min.js"));
        Assert.Contains("plotly.js v2.28.0", plotly[..500], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir, "assets", "katex", "katex.min.js")));
        Assert.True(File.Exists(Path.Combine(dir, "assets", "katex", "fonts", "KaTeX_Main-Regular.woff2")));
        Assert.True(File.Exists(Path.Combine(dir, "assets", "highlight", "highlight.min.js")));
        string page = File.ReadAllText(Path.Combine(dir, "01-a.html"));
        var links = Regex.Matches(page, "(?:src|href)=\"([^\"#]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.DoesNotMatch("^(https?:|/)", l));
        Assert.All(links.Where(l => l.StartsWith("assets/", StringComparison.Ordinal)), l => Assert.True(File.Exists(Path.Combine(dir, l)), l));
    }

    [Fact]
    public void Render_PlotlyScript_OnlyOnPagesWithCharts_AndOnce()
    {
        var chart = Notebook("01-chart.dib", [Code(1, "c"), Code(2, "d")],
            [Ok(1, Html("<div id=\"c1\"></div><script>Plotly.newPlot('c1', [])</script>")), Ok(2, Html("<script>Plotly.newPlot('c2', [])</script>"))]);

        string dir = Render(chart, Passing("02-text.dib", "Text"));

        Assert.Single(Regex.Matches(File.ReadAllText(Path.Combine(dir, "01-chart.html")), "assets/plotly.min.js"));
        Assert.DoesNotContain("plotly.min.js", File.ReadAllText(Path.Combine(dir, "02-text.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_EmptySiteDir_Throws()
    {
        Assert.Throws<ArgumentException>(() => SiteRenderer.Render([], " "));
    }
}
