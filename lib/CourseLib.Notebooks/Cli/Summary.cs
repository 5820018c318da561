using System.Globalization;
using System.Text;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Cli;

/// <summary>The table printed at the end of a run: notebook, cells, seconds, status.</summary>
public static class Summary
{
    /// <summary>Formats the table; paths are shown relative to <paramref name="root"/> when under it.</summary>
    public static string Format(IReadOnlyList<NotebookResult> results, string? root)
    {
        ArgumentNullException.ThrowIfNull(results);
        var rows = results.Select(r => (
            Name: RunCommand.Display(r.Document.Path, root),
            Cells: $"{r.Cells.Count(c => c.Status == CellStatus.Succeeded)}/{r.Cells.Count}",
            Seconds: r.Seconds.ToString("0.0", CultureInfo.InvariantCulture),
            Status: Status(r))).ToList();
        int w0 = Math.Max("Notebook".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length));
        int w1 = Math.Max("Cells".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Cells.Length));
        int w2 = Math.Max("Seconds".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Seconds.Length));
        var sb = new StringBuilder();
        sb.AppendLine($"{"Notebook".PadRight(w0)}  {"Cells".PadLeft(w1)}  {"Seconds".PadLeft(w2)}  Status");
        sb.AppendLine($"{new string('-', w0)}  {new string('-', w1)}  {new string('-', w2)}  {new string('-', 6)}");
        foreach (var r in rows)
        {
            sb.AppendLine($"{r.Name.PadRight(w0)}  {r.Cells.PadLeft(w1)}  {r.Seconds.PadLeft(w2)}  {r.Status}");
        }

        int failed = results.Count(r => !r.Succeeded);
        sb.AppendLine(failed == 0 ? $"{results.Count} notebook(s), all passed." : $"{failed} of {results.Count} notebook(s) FAILED.");
        return sb.ToString();
    }

    private static string Status(NotebookResult result)
    {
        if (result.FatalError is not null)
        {
            return "FAILED (" + result.FatalError.Split('\n')[0] + ")";
        }

        CellResult? failed = result.Cells.FirstOrDefault(c => c.Status == CellStatus.Failed);
        if (failed is null)
        {
            return "ok";
        }

        string where = failed.Error?.LineInFile is int line ? $"cell {failed.Number}, line {line}" : $"cell {failed.Number}";
        return $"FAILED ({failed.Error?.Kind} at {where})";
    }
}
