using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace CourseLib.Interactive;

/// <summary>
/// The few chart shapes the lessons use, with one consistent size and labelling, built on Plotly.NET.CSharp.
/// Each returns a Plotly.NET <see cref="GenericChart"/>: display it (it is the cell's value, or pass it to
/// <c>display(...)</c>) or refine it further with Plotly.NET.
/// </summary>
public static class Plots
{
    /// <summary>Default chart width in pixels: fits the course page's text column.</summary>
    public const int Width = 720;

    /// <summary>Default chart height in pixels: a landscape aspect that suits training curves.</summary>
    public const int Height = 420;

    /// <summary>One line through the points (<paramref name="xs"/>[i], <paramref name="ys"/>[i]).</summary>
    /// <param name="xs">X values.</param>
    /// <param name="ys">Y values, as many as <paramref name="xs"/>.</param>
    /// <param name="name">Legend entry, or null for none.</param>
    /// <param name="title">Chart title, or null.</param>
    /// <param name="xTitle">X axis label, or null.</param>
    /// <param name="yTitle">Y axis label, or null.</param>
    /// <exception cref="ArgumentException">The two sequences have different lengths.</exception>
    public static GenericChart Line<TX, TY>(IEnumerable<TX> xs, IEnumerable<TY> ys, string? name = null,
        string? title = null, string? xTitle = null, string? yTitle = null)
        where TX : IConvertible
        where TY : IConvertible
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(ys);
        var chart = Series(xs.ToArray(), ys.ToArray(), name, nameof(ys));
        return Style(chart, title, xTitle, yTitle);
    }

    /// <summary>Several lines over the same x values, one legend entry each (e.g. Pre-LN vs Post-LN loss).</summary>
    /// <param name="xs">X values shared by every series.</param>
    /// <param name="series">Name and y values of each line; each has as many values as <paramref name="xs"/>.</param>
    /// <param name="title">Chart title, or null.</param>
    /// <param name="xTitle">X axis label, or null.</param>
    /// <param name="yTitle">Y axis label, or null.</param>
    /// <exception cref="ArgumentException">No series, or a series whose length differs from <paramref name="xs"/>.</exception>
    public static GenericChart Lines<TX, TY>(IEnumerable<TX> xs, IEnumerable<(string Name, IEnumerable<TY> Ys)> series,
        string? title = null, string? xTitle = null, string? yTitle = null)
        where TX : IConvertible
        where TY : IConvertible
    {
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(series);
        var x = xs.ToArray();
        var charts = series.Select(s => Series(x, s.Ys.ToArray(), s.Name, $"series '{s.Name}'")).ToList();
        if (charts.Count == 0)
        {
            throw new ArgumentException("Plots.Lines needs at least one series.", nameof(series));
        }
        return Style(CSharpChart.Combine(charts), title, xTitle, yTitle);
    }

    /// <summary>
    /// A heatmap of a matrix, drawn the way it is printed: row 0 at the top, column 0 at the left
    /// (e.g. a weight matrix or the activations of a batch).
    /// </summary>
    /// <param name="z">Values, indexed [row, column].</param>
    /// <param name="title">Chart title, or null.</param>
    /// <param name="xTitle">Column axis label, or null.</param>
    /// <param name="yTitle">Row axis label, or null.</param>
    /// <exception cref="ArgumentException"><paramref name="z"/> has no rows or no columns.</exception>
    public static GenericChart Heatmap(float[,] z, string? title = null, string? xTitle = null, string? yTitle = null)
    {
        ArgumentNullException.ThrowIfNull(z);
        int rows = z.GetLength(0), cols = z.GetLength(1);
        if (rows == 0 || cols == 0)
        {
            throw new ArgumentException($"Plots.Heatmap needs a non-empty matrix; z is [{rows}, {cols}].", nameof(z));
        }
        var data = Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, cols).Select(j => z[i, j]).ToArray()).ToArray();
        var chart = CSharpChart.Heatmap<float, int, int, string>(data, ReverseYAxis: true);
        return Style(chart, title, xTitle, yTitle);
    }

    private static GenericChart Series<TX, TY>(TX[] x, TY[] y, string? name, string what)
        where TX : IConvertible
        where TY : IConvertible
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Plots: xs has {x.Length} values but {what} has {y.Length}; they must match.", nameof(y));
        }
        return name is null
            ? CSharpChart.Line<TX, TY, string>(x, y, ShowLegend: false)
            : CSharpChart.Line<TX, TY, string>(x, y, Name: name, ShowLegend: true);
    }

    private static GenericChart Style(GenericChart chart, string? title, string? xTitle, string? yTitle)
    {
        chart = chart.WithSize(Width, Height);
        if (title is not null)
        {
            chart = Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
        }
        if (xTitle is not null)
        {
            chart = chart.WithXAxisStyle<double, double, string>(TitleText: xTitle);
        }
        if (yTitle is not null)
        {
            chart = chart.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        }
        return chart;
    }
}
