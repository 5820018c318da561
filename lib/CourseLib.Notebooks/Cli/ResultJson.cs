using System.Text.Json;
using System.Text.Json.Serialization;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Cli;

/// <summary>How results travel between the worker and the runner, and how they are written under artifacts/run/.</summary>
public static class ResultJson
{
    /// <summary>camelCase, enums as strings, indented for the files people read.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Options for one-line event messages.</summary>
    public static JsonSerializerOptions Compact { get; } = new(Options) { WriteIndented = false };

    /// <summary>Writes a result file, creating its folder.</summary>
    public static void Write(NotebookResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(result, Options));
    }

    /// <summary>Reads a result file.</summary>
    public static NotebookResult Read(string path) =>
        JsonSerializer.Deserialize<NotebookResult>(File.ReadAllText(path), Options)
        ?? throw new InvalidDataException($"{path} holds no notebook result.");
}
