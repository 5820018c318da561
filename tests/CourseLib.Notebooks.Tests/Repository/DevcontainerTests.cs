using System.Reflection;
using System.Text.Json;

namespace CourseLib.Notebooks.Tests.Repository;

/// <summary>The Codespace definition says what the README promises: .NET 10 on Ubuntu 24.04, the notebook and C# extensions, everything built on create.</summary>
public class DevcontainerTests
{
    private static readonly string Root = typeof(DevcontainerTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "CourseLib.Root").Value!;

    private static JsonElement Load()
    {
        string path = Path.Combine(Root, ".devcontainer", "devcontainer.json");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Devcontainer_Image_IsDotnet10OnUbuntuNoble()
    {
        string image = Load().GetProperty("image").GetString()!;
        Assert.Matches(@"^mcr\.microsoft\.com/devcontainers/dotnet:10\.0(\.\d+)?-noble(@sha256:[0-9a-f]{64})?$", image);
    }

    [Fact]
    public void Devcontainer_Extensions_IncludePolyglotNotebooksAndCSharp()
    {
        string[] extensions = Load().GetProperty("customizations").GetProperty("vscode").GetProperty("extensions")
            .EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Contains("ms-dotnettools.dotnet-interactive-vscode", extensions);
        Assert.Contains("ms-dotnettools.csharp", extensions);
    }

    [Fact]
    public void Devcontainer_PostCreate_BuildsTheSolutionInRelease()
    {
        // Notebooks #r the Release build (artifacts/bin/<Project>/release/), and the build restores TorchSharp-cpu,
        // so the first cell a learner runs finds libtorch already on disk.
        JsonElement root = Load();
        string command = root.GetProperty("postCreateCommand").GetString()!;
        Assert.Matches(@"dotnet build\s+CourseLib\.sln\s+-c Release", command);
        Assert.Equal("postCreateCommand", root.GetProperty("waitFor").GetString());
    }

    [Fact]
    public void GlobalJson_PinsSdk10()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "global.json")));
        Assert.StartsWith("10.0.", doc.RootElement.GetProperty("sdk").GetProperty("version").GetString(), StringComparison.Ordinal);
    }
}
