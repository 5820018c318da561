using System.Globalization;
using System.Net;
using System.Text;

namespace CourseLib.Interactive;

/// <summary>
/// Compact HTML for the vectors and matrices lessons print all the time. The default formatter prints a
/// float[,] as one flat list and a long float[] in full; these keep the shape visible and cut the middle.
/// </summary>
internal static class ArrayHtml
{
    /// <summary>Rows or columns shown before the middle is elided.</summary>
    internal const int MaxShown = 12;

    private const string TableStyle = "border-collapse:collapse;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:0.85em;font-variant-numeric:tabular-nums";
    private const string CellStyle = "padding:1px 8px;text-align:right;border:none";
    private const string HeadStyle = "padding:1px 8px;text-align:right;border:none;opacity:0.55;font-weight:normal";

    public static string Vector<T>(T[] values, string typeName) where T : IFormattable
    {
        ArgumentNullException.ThrowIfNull(values);
        var html = new StringBuilder();
        html.Append("<div class=\"courselib-array\">");
        Caption(html, $"{typeName}[{values.Length}]");
        html.Append(CultureInfo.InvariantCulture, $"<table style=\"{TableStyle}\"><tr>");
        foreach (int i in ShownIndices(values.Length))
        {
            html.Append(CultureInfo.InvariantCulture, $"<td style=\"{CellStyle}\">");
            html.Append(i < 0 ? "…" : Number(values[i]));
            html.Append("</td>");
        }
        html.Append("</tr></table></div>");
        return html.ToString();
    }

    public static string Matrix<T>(T[,] values, string typeName) where T : IFormattable
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), cols = values.GetLength(1);
        var shownCols = ShownIndices(cols).ToList();
        var html = new StringBuilder();
        html.Append("<div class=\"courselib-array\">");
        Caption(html, $"{typeName}[{rows}, {cols}]");
        html.Append(CultureInfo.InvariantCulture, $"<table style=\"{TableStyle}\"><tr><th style=\"{HeadStyle}\"></th>");
        foreach (int j in shownCols)
        {
            html.Append(CultureInfo.InvariantCulture, $"<th style=\"{HeadStyle}\">{(j < 0 ? "…" : j.ToString(CultureInfo.InvariantCulture))}</th>");
        }
        html.Append("</tr>");
        foreach (int i in ShownIndices(rows))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><th style=\"{HeadStyle}\">{(i < 0 ? "⋮" : i.ToString(CultureInfo.InvariantCulture))}</th>");
            foreach (int j in shownCols)
            {
                html.Append(CultureInfo.InvariantCulture, $"<td style=\"{CellStyle}\">");
                html.Append(i < 0 ? (j < 0 ? "⋱" : "⋮") : j < 0 ? "…" : Number(values[i, j]));
                html.Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table></div>");
        return html.ToString();
    }

    /// <summary>0..n-1, or the first and last MaxShown/2 with -1 standing for the elided middle.</summary>
    internal static IEnumerable<int> ShownIndices(int n)
    {
        if (n <= MaxShown)
        {
            for (int i = 0; i < n; i++)
            {
                yield return i;
            }
            yield break;
        }
        int half = MaxShown / 2;
        for (int i = 0; i < half; i++)
        {
            yield return i;
        }
        yield return -1;
        for (int i = n - half; i < n; i++)
        {
            yield return i;
        }
    }

    // Four significant digits: enough to compare kernels by eye; the checks compare the full values.
    private static string Number<T>(T value) where T : IFormattable =>
        WebUtility.HtmlEncode(value.ToString("G4", CultureInfo.InvariantCulture));

    private static void Caption(StringBuilder html, string text) =>
        html.Append("<div style=\"font-size:0.8em;opacity:0.65;font-family:ui-monospace,Menlo,Consolas,monospace\">")
            .Append(WebUtility.HtmlEncode(text))
            .Append("</div>");
}
