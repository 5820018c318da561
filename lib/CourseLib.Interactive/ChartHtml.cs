using System.Globalization;
using System.Text;
using Plotly.NET;

namespace CourseLib.Interactive;

/// <summary>
/// Turns a Plotly.NET chart into an HTML fragment that draws in both places a lesson is read:
/// VS Code Polyglot Notebooks (online; plotly.js is fetched from the CDN the first time, through require.js
/// when the host has it, as Plotly.NET.Interactive does) and the offline course site (the page defines
/// <c>Plotly</c> once in its head, so the fragment draws at once and never touches the network).
/// </summary>
internal static class ChartHtml
{
    /// <summary>Prefix of every chart div id; the renderer and tests look for it.</summary>
    internal const string IdPrefix = "courselib-chart-";

    /// <summary>The plotly.js version Plotly.NET generates figures for (and embeds).</summary>
    internal static string PlotlyJsVersion => Globals.PLOTLYJS_VERSION;

    /// <summary>Where a notebook host with network loads plotly.js from.</summary>
    internal static string CdnUrl => $"https://cdn.plot.ly/plotly-{PlotlyJsVersion}.min.js";

    public static string ToHtml(GenericChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);

        // Plotly.NET's own serialisation, so every trace/layout option it knows survives unchanged.
        string figureJson = GenericChart.toFigureJson(chart);
        string configJson = Newtonsoft.Json.JsonConvert.SerializeObject(GenericChart.getConfig(chart), Globals.JSON_CONFIG);
        string id = IdPrefix + Guid.NewGuid().ToString("N");
        string cdn = CdnUrl;

        var html = new StringBuilder(figureJson.Length + 2048);
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"courselib-chart\" id=\"{id}\"></div>\n");
        html.Append("<script type=\"text/javascript\">\n(function () {\n");
        html.Append(CultureInfo.InvariantCulture, $"  var id = '{id}';\n");
        html.Append("  var figure = ").Append(ForScript(figureJson)).Append(";\n");
        html.Append("  figure.config = ").Append(ForScript(configJson)).Append(";\n");
        html.Append(CultureInfo.InvariantCulture, $"  var cdn = '{cdn}';\n");
        html.Append(LoaderScript);
        html.Append("})();\n</script>");
        return html.ToString();
    }

    // JSON has '<' only inside strings, where \u003c means the same; escaping it keeps "</script>" or "<!--"
    // in a trace name from ending the script element early.
    private static string ForScript(string json) => json.Replace("<", "\\u003c", StringComparison.Ordinal);

    // Plotly already defined: the course site, or a notebook where an earlier chart loaded it. Otherwise:
    // require.js hosts (Jupyter-style) get plotly as an AMD module, because plotly's UMD bundle does not set
    // window.Plotly when an AMD loader is present; plain hosts (VS Code) get one shared <script> tag and a
    // queue, so ten charts in a notebook download plotly.js once.
    private const string LoaderScript = """
          var draw = function (P) { P.newPlot(id, figure); };
          var w = window;
          if (typeof w.Plotly !== 'undefined') { draw(w.Plotly); return; }
          if (typeof w.requirejs === 'function' && typeof w.requirejs.config === 'function') {
            w.requirejs.config({ paths: { courselib_plotly: cdn.replace(/\.js$/, '') } });
            w.requirejs(['courselib_plotly'], draw);
            return;
          }
          var state = w.__courselibPlotly;
          if (!state) {
            state = w.__courselibPlotly = { queue: [], failed: false };
            var s = document.createElement('script');
            s.src = cdn;
            s.charset = 'utf-8';
            s.onload = function () { while (state.queue.length) { state.queue.shift().draw(w.Plotly); } };
            s.onerror = function () {
              state.failed = true;
              while (state.queue.length) { state.queue.shift().fail(); }
            };
            document.head.appendChild(s);
          }
          var fail = function () {
            var el = document.getElementById(id);
            if (el) { el.textContent = 'Chart not shown: plotly.js could not be loaded from ' + cdn + '.'; }
          };
          if (state.failed) { fail(); } else { state.queue.push({ draw: draw, fail: fail }); }

        """;
}
