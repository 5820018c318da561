using System.Text.RegularExpressions;
using CourseLib.Interactive;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace CourseLib.Interactive.Tests;

public class ChartHtmlTests
{
    private static GenericChart SampleChart(string name = "loss") =>
        CSharpChart.Line<double, double, string>(new[] { 1.0, 2.0, 3.0 }, new[] { 0.5, 0.25, 0.125 }, Name: name);

    [Fact]
    public void ToHtml_Chart_ContainsPlotlyNetFigureJson()
    {
        var chart = SampleChart();

        string html = ChartHtml.ToHtml(chart);

        Assert.Contains(GenericChart.toFigureJson(chart), html, StringComparison.Ordinal);
        Assert.Contains("figure.config = {\"responsive\":true};", html, StringComparison.Ordinal);
        Assert.Contains("\"y\":[0.5,0.25,0.125]", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_SameChartTwice_UsesDifferentDivIds()
    {
        var chart = SampleChart();

        var ids = new[] { ChartHtml.ToHtml(chart), ChartHtml.ToHtml(chart) }
            .Select(h => Regex.Match(h, "<div class=\"courselib-chart\" id=\"(courselib-chart-[0-9a-f]{32})\"").Groups[1].Value)
            .ToArray();

        Assert.All(ids, id => Assert.StartsWith(ChartHtml.IdPrefix, id, StringComparison.Ordinal));
        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public void ToHtml_DivIdAndScriptId_Match()
    {
        string html = ChartHtml.ToHtml(SampleChart());

        string divId = Regex.Match(html, "<div class=\"courselib-chart\" id=\"([^\"]+)\"").Groups[1].Value;
        Assert.Contains($"var id = '{divId}';", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_TraceNameWithClosingScriptTag_CannotEndTheScript()
    {
        string html = ChartHtml.ToHtml(SampleChart("</script><b>oops</b>"));

        // Exactly one script element, and the name is still there, escaped.
        Assert.Equal(1, Regex.Count(html, "</script>", RegexOptions.IgnoreCase));
        Assert.Contains("\\u003c/script>\\u003cb>oops\\u003c/b>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_PlotlyAlreadyDefined_DrawsWithoutLoadingAnything()
    {
        string html = ChartHtml.ToHtml(SampleChart());

        // The offline site defines Plotly before any output: that branch must come first and return.
        int defined = html.IndexOf("if (typeof w.Plotly !== 'undefined') { draw(w.Plotly); return; }", StringComparison.Ordinal);
        int cdn = html.IndexOf("createElement('script')", StringComparison.Ordinal);
        Assert.True(defined > 0 && cdn > defined, "the Plotly-defined check must precede the CDN loader");
        Assert.Contains($"https://cdn.plot.ly/plotly-{Globals.PLOTLYJS_VERSION}.min.js", html, StringComparison.Ordinal);
    }
}
