using System.Globalization;
using System.Text;

namespace CourseLib.Notebooks.Rendering;

/// <summary>The frame shared by every page: head with the offline assets, site header, footer.</summary>
internal static class PageLayout
{
    /// <summary>The course's name in headers and titles.</summary>
    public const string CourseName = "CourseLib";

    /// <summary>Escapes the five HTML-significant characters and nothing else, so "·" or "μ" stay readable in the source.</summary>
    public static string Encode(string text)
    {
        var html = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            _ = c switch
            {
                '&' => html.Append("&amp;"),
                '<' => html.Append("&lt;"),
                '>' => html.Append("&gt;"),
                '"' => html.Append("&quot;"),
                '\'' => html.Append("&#39;"),
                _ => html.Append(c),
            };
        }
        return html.ToString();
    }

    public static string Seconds(double seconds) =>
        seconds < 10 ? seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s"
        : seconds < 120 ? seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s";

    /// <summary>Opens the document; <paramref name="withPlotly"/> adds plotly.js (3.6 MB) only to pages with charts.</summary>
    public static void Begin(StringBuilder html, string title, bool withPlotly)
    {
        const string A = SiteAssets.FolderName;
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{Encode(title)}</title>
            <link rel="stylesheet" href="{A}/katex/katex.min.css">
            <link rel="stylesheet" href="{A}/highlight/github.min.css">
            <link rel="stylesheet" href="{A}/course.css">

            """);
        if (withPlotly)
        {
            // Loaded synchronously in the head so that every chart's inline script finds Plotly defined.
            html.Append($"<script src=\"{A}/{SiteAssets.PlotlyFileName}\"></script>\n");
        }
        html.Append($"""
            <script defer src="{A}/katex/katex.min.js"></script>
            <script defer src="{A}/highlight/highlight.min.js"></script>
            <script defer src="{A}/course.js"></script>
            </head>
            <body>
            <header class="site-header"><a class="site-name" href="{SiteRenderer.IndexFileName}">{CourseName}</a><span class="site-tagline">the other half of the transformer, in C#</span></header>

            """);
    }

    public static void End(StringBuilder html)
    {
        string when = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        html.Append($"""
            <footer class="site-footer">Rendered {when} from the notebooks in <code>notebooks/</code> by <code>CourseLib.Notebooks</code>.</footer>
            </body>
            </html>

            """);
    }
}
