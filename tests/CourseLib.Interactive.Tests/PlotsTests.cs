using CourseLib.Interactive;
using Newtonsoft.Json.Linq;
using Plotly.NET;

namespace CourseLib.Interactive.Tests;

public class PlotsTests
{
    private static JObject Figure(GenericChart chart) => JObject.Parse(GenericChart.toFigureJson(chart));

    [Fact]
    public void Line_WithLabels_PutsDataTitlesAndSizeInTheFigure()
    {
        var fig = Figure(Plots.Line(new[] { 0, 1, 2 }, new[] { 1f, 0.5f, 0.25f }, name: "train", title: "Loss", xTitle: "step", yTitle: "loss"));

        var trace = (JObject)fig["data"]![0]!;
        Assert.Equal("train", (string?)trace["name"]);
        Assert.Equal(new[] { 1.0, 0.5, 0.25 }, trace["y"]!.Select(t => (double)t));
        Assert.Equal("Loss", (string?)fig["layout"]!["title"]!["text"]);
        Assert.Equal("step", (string?)fig["layout"]!["xaxis"]!["title"]!["text"]);
        Assert.Equal("loss", (string?)fig["layout"]!["yaxis"]!["title"]!["text"]);
        Assert.Equal(Plots.Width, (int)fig["layout"]!["width"]!);
        Assert.Equal(Plots.Height, (int)fig["layout"]!["height"]!);
    }

    [Fact]
    public void Line_LengthMismatch_ThrowsNamingBothSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => Plots.Line(new[] { 1, 2, 3 }, new[] { 1.0, 2.0 }));

        Assert.Contains("xs has 3 values but ys has 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lines_TwoSeries_GivesTwoNamedTraces()
    {
        var xs = new[] { 1, 2, 3 };
        var fig = Figure(Plots.Lines(xs, new[] { ("Pre-LN", (IEnumerable<double>)new[] { 3.0, 2, 1 }), ("Post-LN", new[] { 3.0, 2.5, 2 }) }));

        var names = fig["data"]!.Select(t => (string?)t["name"]).ToArray();
        Assert.Equal(new[] { "Pre-LN", "Post-LN" }, names);
    }

    [Fact]
    public void Lines_SeriesOfWrongLength_ThrowsNamingTheSeries()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Plots.Lines(new[] { 1, 2 }, new[] { ("ok", (IEnumerable<float>)new[] { 1f, 2f }), ("short", new[] { 1f }) }));

        Assert.Contains("series 'short' has 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lines_NoSeries_Throws()
    {
        Assert.Throws<ArgumentException>(() => Plots.Lines(new[] { 1 }, Array.Empty<(string, IEnumerable<float>)>()));
    }

    [Fact]
    public void Heatmap_Matrix_KeepsRowsInOrderWithRowZeroAtTop()
    {
        var z = new float[,] { { 1, 2, 3 }, { 4, 5, 6 } };

        var fig = Figure(Plots.Heatmap(z, title: "W"));

        var rows = fig["data"]![0]!["z"]!.Select(r => r.Select(v => (float)v).ToArray()).ToArray();
        Assert.Equal(new[] { 1f, 2, 3 }, rows[0]);
        Assert.Equal(new[] { 4f, 5, 6 }, rows[1]);
        Assert.Equal("reversed", (string?)fig["layout"]!["yaxis"]!["autorange"]);
    }

    [Fact]
    public void Heatmap_Empty_ThrowsWithShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Plots.Heatmap(new float[0, 4]));

        Assert.Contains("[0, 4]", e.Message, StringComparison.Ordinal);
    }
}
