using System.Text.Json;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Cli;

/// <summary>
/// A progress message from a worker: one line on its standard output, marked with <see cref="Prefix"/> so that
/// anything else written to the real stdout (native libraries can write there directly) is told apart.
/// </summary>
/// <param name="Type">"started" or "finished".</param>
/// <param name="Cell">Cell number.</param>
/// <param name="Total">Number of cells in the notebook.</param>
/// <param name="Result">The cell's result, for "finished".</param>
public sealed record WorkerEvent(string Type, int Cell, int Total, CellResult? Result = null)
{
    /// <summary>Marks event lines.</summary>
    public const string Prefix = "@@courselib-notebooks-event@@ ";

    /// <summary>The line to write.</summary>
    public string ToLine() => Prefix + JsonSerializer.Serialize(this, ResultJson.Compact);

    /// <summary>Reads an event line; null for any other output.</summary>
    public static WorkerEvent? TryParse(string? line) =>
        line is not null && line.StartsWith(Prefix, StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<WorkerEvent>(line.AsSpan(Prefix.Length), ResultJson.Compact)
            : null;
}
