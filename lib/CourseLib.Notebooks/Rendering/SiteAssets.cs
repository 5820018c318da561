using Plotly.NET;

namespace CourseLib.Notebooks.Rendering;

/// <summary>Puts the static files every page links to into <c>&lt;site&gt;/assets/</c>.</summary>
internal static class SiteAssets
{
    /// <summary>Folder name under the site root; pages link to it relatively so they open from file://.</summary>
    public const string FolderName = "assets";

    /// <summary>File name of plotly.js inside the assets folder.</summary>
    public const string PlotlyFileName = "plotly.min.js";

    /// <summary>The vendored files (KaTeX, highlight.js, course.css/js), copied next to this assembly by the build.</summary>
    public static string SourceDirectory =>
        Path.Combine(Path.GetDirectoryName(typeof(SiteAssets).Assembly.Location) ?? AppContext.BaseDirectory, FolderName);

    /// <summary>Copies the vendored files and extracts plotly.js from Plotly.NET into <paramref name="siteDir"/>/assets.</summary>
    public static void WriteTo(string siteDir)
    {
        string source = SourceDirectory;
        if (!File.Exists(Path.Combine(source, "course.css")))
        {
            throw new DirectoryNotFoundException(
                $"The site's static files are missing: expected them in '{source}' (lib/CourseLib.Notebooks/assets, copied there by the build).");
        }
        string target = Path.Combine(siteDir, FolderName);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
        WritePlotly(target);
    }

    // Plotly.NET 6 embeds the plotly.js its figures are made for; taking it from there keeps the two in step
    // and means nothing is downloaded.
    private static void WritePlotly(string assetsDir)
    {
        var assembly = typeof(GenericChart).Assembly;
        string[] names = assembly.GetManifestResourceNames();
        string script = names.SingleOrDefault(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"Plotly.NET {assembly.GetName().Version} has no embedded plotly-*.min.js; its resources are: {string.Join(", ", names)}.");
        Extract(assembly, script, Path.Combine(assetsDir, PlotlyFileName));
        string license = script + ".LICENSE.txt";
        if (names.Contains(license))
        {
            Extract(assembly, license, Path.Combine(assetsDir, PlotlyFileName + ".LICENSE.txt"));
        }
    }

    private static void Extract(System.Reflection.Assembly assembly, string resource, string path)
    {
        using var input = assembly.GetManifestResourceStream(resource)!;
        using var output = File.Create(path);
        input.CopyTo(output);
    }
}
