using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace CourseLib.Notebooks.Tests.Repository;

/// <summary>
/// Notebooks reference NuGet packages by version (#r "nuget: Name, Version") while the library is built against
/// Directory.Packages.props. A mismatch would load two versions of Plotly.NET or TorchSharp into one kernel.
/// </summary>
public partial class NotebookPackageTests
{
    private static readonly string Root = typeof(NotebookPackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CourseLib.Root").Value!;

    [GeneratedRegex(@"^\s*#r\s+""nuget:\s*(?<name>[^,""]+?)\s*(,\s*(?<version>[^""]+?))?\s*""", RegexOptions.Multiline)]
    private static partial Regex NugetDirective();

    [Fact]
    public void Notebooks_NugetReferences_MatchCentralPackageVersions()
    {
        Dictionary<string, string> central = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);

        string[] notebooks = Directory.GetFiles(Path.Combine(Root, "notebooks"), "*.dib");
        Assert.NotEmpty(notebooks);
        var problems = new List<string>();
        int checkedCount = 0;
        foreach (string notebook in notebooks)
        {
            foreach (Match m in NugetDirective().Matches(File.ReadAllText(notebook)))
            {
                string name = m.Groups["name"].Value, version = m.Groups["version"].Value;
                checkedCount++;
                if (!central.TryGetValue(name, out string? want))
                {
                    problems.Add($"{Path.GetFileName(notebook)}: {name} is not in Directory.Packages.props");
                }
                else if (version != want)
                {
                    problems.Add($"{Path.GetFileName(notebook)}: {name} {(version.Length == 0 ? "(no version)" : version)}, Directory.Packages.props has {want}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.True(checkedCount > 0, "no notebook references a NuGet package; the first cell of every lesson should");
    }
}
