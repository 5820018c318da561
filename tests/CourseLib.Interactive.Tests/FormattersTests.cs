using CourseLib.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace CourseLib.Interactive.Tests;

// Formatter registrations are process-wide; this collection keeps the tests that touch them sequential.
[CollectionDefinition(nameof(FormatterState), DisableParallelization = true)]
public sealed class FormatterState;

[Collection(nameof(FormatterState))]
public class FormattersTests
{
    private static int HtmlFormattersFor<T>() =>
        Formatter.RegisteredFormatters(false).Count(f => f.Type == typeof(T) && f.MimeType == HtmlFormatter.MimeType);

    [Fact]
    public void Register_CalledTwice_RegistersEachFormatterOnce()
    {
        Formatter.ResetToDefault();

        Formatters.Register();
        Formatters.Register();

        Assert.Equal(1, HtmlFormattersFor<GenericChart>());
        Assert.Equal(1, HtmlFormattersFor<float[]>());
        Assert.Equal(1, HtmlFormattersFor<double[,]>());
    }

    [Fact]
    public void Register_AfterResetToDefault_RegistersAgain()
    {
        Formatters.Register();
        Formatter.ResetToDefault();
        Assert.Equal(0, HtmlFormattersFor<GenericChart>());

        Formatters.Register();

        Assert.Equal(1, HtmlFormattersFor<GenericChart>());
    }

    [Fact]
    public void ToDisplayString_ChartAfterRegister_IsOurChartHtml()
    {
        Formatters.Register();
        // Plotly.NET's GenericChart is an F# union: the runtime type is a nested subclass, not GenericChart.
        var chart = CSharpChart.Line<int, int, string>(new[] { 1, 2 }, new[] { 3, 4 });
        Assert.NotEqual(typeof(GenericChart), chart.GetType());

        string html = chart.ToDisplayString(HtmlFormatter.MimeType);

        Assert.StartsWith($"<div class=\"courselib-chart\" id=\"{ChartHtml.IdPrefix}", html, StringComparison.Ordinal);
        Assert.Contains("\"x\":[1,2]", html, StringComparison.Ordinal);
        Assert.Contains(HtmlFormatter.MimeType, Formatter.GetPreferredMimeTypesFor(chart.GetType()));
    }

    [Fact]
    public void ToHtml_Chart_IsWhatTheRegisteredFormatterWritesApartFromTheId()
    {
        Formatters.Register();
        var chart = CSharpChart.Line<int, int, string>(new[] { 1, 2 }, new[] { 3, 4 });

        static string WithoutIds(string html) => System.Text.RegularExpressions.Regex.Replace(html, "courselib-chart-[0-9a-f]{32}", "ID");

        Assert.Equal(WithoutIds(Formatters.ToHtml(chart)), WithoutIds(chart.ToDisplayString(HtmlFormatter.MimeType)));
    }

    [Fact]
    public void ToDisplayString_FloatMatrixAfterRegister_ShowsShapeAndRows()
    {
        Formatters.Register();
        var m = new float[,] { { 1f, 2.5f }, { -3f, 0.125f } };

        string html = m.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("float[2, 2]", html, StringComparison.Ordinal);
        Assert.Contains(">2.5<", html, StringComparison.Ordinal);
        Assert.Contains(">-3<", html, StringComparison.Ordinal);
        Assert.Contains(">0.125<", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToDisplayString_PlainTextOfFloatArray_IsUnchanged()
    {
        Formatters.Register();

        Assert.Equal("[ 1, 2, 3 ]", new float[] { 1, 2, 3 }.ToDisplayString(PlainTextFormatter.MimeType));
    }
}
