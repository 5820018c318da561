using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using CourseLib.Interactive;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Rendering;
using Xunit.Abstractions;
using static CourseLib.Notebooks.Tests.Rendering.SampleResults;

namespace CourseLib.Notebooks.Tests.Rendering;

/// <summary>
/// Opens a rendered lesson in headless Chromium with the network cut off and checks, in the DOM Chromium
/// ends up with, that KaTeX typeset the equations, Plotly drew the chart and highlight.js coloured the code.
/// Needs Debian's chromium (.ci/install-chromium.sh): skipped without it, except in CI (CI=true) where a
/// missing browser is a failure.
/// </summary>
public sealed class ChromiumRenderTests(ITestOutputHelper output)
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [SkippableFact]
    public void Render_LessonWithChartAndMath_RendersOfflineInChromium()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (!File.Exists(ChromiumPath))
        {
            string message = $"{ChromiumPath} not found: run .ci/install-chromium.sh to check the rendered site in a browser.";
            Assert.False(ci, message);
            Skip.If(true, message);
        }

        var chart = Plots.Lines(new[] { 0, 1, 2, 3 },
            new[] { ("Pre-LN", (IEnumerable<double>)new[] { 2.0, 1.2, 0.8, 0.6 }), ("Post-LN", new[] { 2.0, 1.6, 1.3, 1.1 }) },
            title: "Training loss", xTitle: "step", yTitle: "loss");
        // The formatter's HTML, taken directly: formatter registrations are process-wide, and other tests in this
        // assembly may reset them while this one runs.
        string chartHtml = Formatters.ToHtml(chart);
        var lesson = Notebook("05-check.dib",
            [
                Markdown(1, "# Rendering check\n\nLayerNorm normalises each row: $\\mu = \\frac{1}{C}\\sum_i x_i$ and\n\n$$\ny_i = \\gamma \\frac{x_i - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta\n$$"),
                Code(2, "using CourseLib.Interactive;\nvar xs = new[] { 0, 1, 2, 3 };\nPlots.Lines(xs, series, title: \"Training loss\")"),
            ],
            [Ok(1), Ok(2, Stdout("plotting 2 series\n"), Html(chartHtml))]);

        string site = Path.Combine(Path.GetTempPath(), "courselib-chromium-" + Guid.NewGuid().ToString("N"));
        string profile = Path.Combine(site, ".chromium-profile");
        try
        {
            SiteRenderer.Render([lesson], site);
            string page = new Uri(Path.Combine(site, "05-check.html")).AbsoluteUri;

            string dom = RunChromium(profile, "--dump-dom", page);

            Assert.True(Regex.Count(dom, "class=\"katex\"") >= 2, "KaTeX did not typeset the inline and display math");
            Assert.Contains("class=\"katex-display\"", dom, StringComparison.Ordinal);
            Assert.DoesNotContain("katex-error", dom, StringComparison.Ordinal);
            Assert.Contains("class=\"main-svg\"", dom, StringComparison.Ordinal);
            Assert.Contains("Training loss", Regex.Match(dom, "<svg class=\"main-svg\"[\\s\\S]*</svg>").Value, StringComparison.Ordinal);
            // Plotly marks the div it drew into; the chart drew from the page's own plotly.js, not the CDN fallback.
            Assert.Matches("<div class=\"courselib-chart js-plotly-plot\" id=\"courselib-chart-[0-9a-f]{32}\"", dom);
            Assert.Contains("class=\"hljs-keyword\"", dom, StringComparison.Ordinal);

            string screenshot = Path.Combine(RepositoryRoot(), "artifacts", "chromium", "render-check.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            File.Delete(screenshot);
            RunChromium(profile, $"--screenshot={screenshot}", "--window-size=1100,1500", page);
            Assert.True(new FileInfo(screenshot).Length > 10_000, $"screenshot {screenshot} is missing or blank");
            output.WriteLine($"screenshot: {screenshot}");
        }
        finally
        {
            if (Directory.Exists(site))
            {
                Directory.Delete(site, recursive: true);
            }
        }
    }

    private string RunChromium(string profile, params string[] args)
    {
        var start = new ProcessStartInfo(ChromiumPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", $"--user-data-dir={profile}",
                     // Cut the network: every http(s) request goes to a closed local port and no name resolves,
                     // so anything the page fetched from the internet would be missing from the result.
                     "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                     "--allow-file-access-from-files", "--virtual-time-budget=15000",
                 }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium {string.Join(' ', args)} did not finish in 120 s");
        }
        if (process.ExitCode != 0)
        {
            output.WriteLine(stderr.Result);
        }
        Assert.Equal(0, process.ExitCode);
        return stdout.Result;
    }

    private static string RepositoryRoot() =>
        typeof(ChromiumRenderTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "CourseLib.Root").Value!;
}
