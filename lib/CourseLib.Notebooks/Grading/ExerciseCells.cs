using System.Text.RegularExpressions;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Grading;

/// <summary>
/// An exercise cell found in a notebook (its first non-empty line is <c>// Exercise 3.1: title</c>), with what
/// the grader needs to compile it alone: its text, where it sits in the file, and the notebook's using directives.
/// </summary>
/// <param name="NotebookPath">Full path of the notebook.</param>
/// <param name="Id">Exercise id from the marker, e.g. "3.1".</param>
/// <param name="CellNumber">1-based cell number in the notebook.</param>
/// <param name="FirstLine">Line in the notebook file of the cell's first line.</param>
/// <param name="Source">The cell's text.</param>
/// <param name="Usings">The notebook's top-level using directives from its other C# cells, in order.</param>
public sealed record ExerciseSubmission(string NotebookPath, string Id, int CellNumber, int FirstLine, string Source, IReadOnlyList<string> Usings);

/// <summary>Finds exercise cells in notebooks.</summary>
public static partial class ExerciseCells
{
    /// <summary>The marker line: <c>// Exercise &lt;lesson&gt;.&lt;number&gt;: &lt;title&gt;</c>.</summary>
    [GeneratedRegex(@"^\s*//\s*Exercise\s+(?<id>\d+\.\d+)\s*:", RegexOptions.CultureInvariant)]
    private static partial Regex Marker();

    [GeneratedRegex(@"^\s*using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?\s*;\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex UsingLine();

    /// <summary>The id in a marker line, or null if <paramref name="line"/> is not one.</summary>
    public static string? MarkerId(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Match m = Marker().Match(line);
        return m.Success ? m.Groups["id"].Value : null;
    }

    /// <summary>Parses a .dib file and returns its exercise cells in document order.</summary>
    public static IReadOnlyList<ExerciseSubmission> FromFile(string path) => FromDocument(DibParser.ParseFile(path));

    /// <summary>The exercise cells of a parsed notebook, in document order.</summary>
    public static IReadOnlyList<ExerciseSubmission> FromDocument(NotebookDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var exercises = new List<(NotebookCell Cell, string Id)>();
        var usings = new List<string>();
        foreach (NotebookCell cell in document.Cells.Where(c => c.Kernel == "csharp"))
        {
            string firstLine = cell.Source.Split('\n').FirstOrDefault(l => l.Trim().Length > 0) ?? "";
            string? id = MarkerId(firstLine);
            if (id is not null)
            {
                exercises.Add((cell, id));
                continue;
            }

            // The notebook's usings (e.g. `using CourseLib.Interactive.Exercises;` for ExerciseMath) are in scope
            // for the exercise cell in the notebook, so they are for the isolated compilation too.
            foreach (string line in cell.Source.Split('\n'))
            {
                if (UsingLine().IsMatch(line) && !usings.Contains(line.Trim(), StringComparer.Ordinal))
                {
                    usings.Add(line.Trim());
                }
            }
        }

        return exercises.Select(e => new ExerciseSubmission(document.Path, e.Id, e.Cell.Number, e.Cell.FirstLine, e.Cell.Source, usings)).ToArray();
    }
}
