using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace CourseLib.Interactive;

/// <summary>
/// Registers the course's display formatters with Microsoft.DotNet.Interactive.Formatting, the library both
/// the real Polyglot Notebooks C# kernel and our headless runner format outputs with, so one call in a
/// notebook's first cell serves both.
/// </summary>
public static class Formatters
{
    private static readonly Lock s_gate = new();

    /// <summary>
    /// Registers HTML formatters for Plotly.NET charts (<see cref="GenericChart"/>) and for <c>float[]</c>,
    /// <c>double[]</c>, <c>float[,]</c> and <c>double[,]</c> (compact tables that show the shape).
    /// Safe to call any number of times: formatters already registered are not added again (they are added
    /// again after <see cref="Formatter.ResetToDefault"/>).
    /// </summary>
    public static void Register()
    {
        lock (s_gate)
        {
            RegisterHtml<GenericChart>(ChartHtml.ToHtml);
            RegisterHtml<float[]>(v => ArrayHtml.Vector(v, "float"));
            RegisterHtml<double[]>(v => ArrayHtml.Vector(v, "double"));
            RegisterHtml<float[,]>(v => ArrayHtml.Matrix(v, "float"));
            RegisterHtml<double[,]>(v => ArrayHtml.Matrix(v, "double"));
        }
    }

    /// <summary>
    /// The HTML the chart formatter writes for <paramref name="chart"/>: a div with a unique id and a script that
    /// draws into it with the page's <c>Plotly</c>, or loads plotly.js from the CDN first when the page has none.
    /// </summary>
    /// <param name="chart">Any Plotly.NET chart.</param>
    public static string ToHtml(GenericChart chart) => ChartHtml.ToHtml(chart);

    private static void RegisterHtml<T>(Func<T, string> toHtml)
    {
        bool present = Formatter.RegisteredFormatters(false)
            .Any(f => f.Type == typeof(T) && f.MimeType == HtmlFormatter.MimeType);
        if (present)
        {
            return;
        }
        Formatter.Register<T>((value, writer) => writer.Write(toHtml(value)), HtmlFormatter.MimeType);
        // The real kernel already prefers HTML for objects; saying so makes any other host pick it too.
        Formatter.SetPreferredMimeTypesFor(typeof(T), HtmlFormatter.MimeType);
    }
}
