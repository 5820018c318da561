using System.Text.RegularExpressions;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Execution;

/// <summary>A NuGet package a cell asked for with <c>#r "nuget: Name, Version"</c>.</summary>
/// <param name="Name">Package id as written.</param>
/// <param name="Version">Version as written, or null for the latest (the kernel's behaviour when it is omitted).</param>
/// <param name="LineInCell">1-based line of the directive in the cell.</param>
public sealed record PackageRequest(string Name, string? Version, int LineInCell);

/// <summary>An assembly a cell references with <c>#r "path.dll"</c> (Roslyn compiles it; the runner loads it).</summary>
public sealed record AssemblyRequest(string Path, int LineInCell);

/// <summary>A file a cell runs first with <c>#!import</c>.</summary>
public sealed record ImportRequest(string Path, int LineInCell);

/// <summary>A cell's C# source split into what the runner handles and what Roslyn compiles.</summary>
/// <param name="Code">The C# to compile. Lines the runner consumed are blanked, so line N here is line N of the cell.</param>
/// <param name="Packages">Hoisted <c>#r "nuget:"</c> directives, in order.</param>
/// <param name="Assemblies"><c>#r "path"</c> directives (left in <see cref="Code"/> for Roslyn, which enforces their placement).</param>
/// <param name="Imports"><c>#!import</c> directives, in order.</param>
/// <param name="Time">True when the cell has <c>#!time</c>.</param>
public sealed record CellDirectives(string Code, IReadOnlyList<PackageRequest> Packages, IReadOnlyList<AssemblyRequest> Assemblies, IReadOnlyList<ImportRequest> Imports, bool Time)
{
    private static readonly Regex s_reference = new("""^\s*#r\s+"(?<target>[^"]*)"\s*(//.*)?$""", RegexOptions.CultureInvariant);
    private static readonly Regex s_nuget = new("""^nuget:\s*(?<name>[^,\s]+)\s*(,\s*(?<version>\S+)\s*)?$""", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>
    /// Reads the directives of a C# cell. Lines starting with <c>#!</c> that are not <c>#!time</c>, <c>#!import</c>
    /// or a C# kernel name are refused: the runner does not execute them, and must not skip them silently.
    /// </summary>
    /// <exception cref="CellDirectiveException">An unsupported or malformed directive; names its line in the cell.</exception>
    public static CellDirectives Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string[] lines = source.Split('\n');
        var packages = new List<PackageRequest>();
        var assemblies = new List<AssemblyRequest>();
        var imports = new List<ImportRequest>();
        bool time = false;
        var kernels = new KernelNames();

        for (int i = 0; i < lines.Length; i++)
        {
            int lineInCell = i + 1;
            string trimmed = lines[i].Trim();

            if (trimmed.StartsWith("#!", StringComparison.Ordinal))
            {
                string[] words = trimmed[2..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
                string command = words.Length > 0 ? words[0] : "";
                string argument = words.Length > 1 ? words[1].Trim() : "";
                if (command == "time" && argument.Length == 0)
                {
                    time = true;
                }
                else if (command == "import")
                {
                    string file = Unquote(argument);
                    if (file.Length == 0)
                    {
                        throw new CellDirectiveException("#!import needs a file: #!import path/to/file.dib", lineInCell);
                    }

                    imports.Add(new ImportRequest(file, lineInCell));
                }
                else if (kernels.TryGetCanonical(command, out string kernel) && argument.Length == 0)
                {
                    // Inside a submission the kernel reads "#!name" as "run the rest in that kernel".
                    if (kernel != KernelNames.CSharp)
                    {
                        throw new CellDirectiveException(
                            $"'{trimmed}' switches to the {kernel} kernel, which the runner does not execute (it runs C# only).", lineInCell);
                    }
                }
                else
                {
                    throw new CellDirectiveException(
                        $"the magic command '{trimmed}' is not supported by the runner (it supports #!time, #!import and #r).", lineInCell);
                }

                lines[i] = "";
            }
            else if (trimmed.StartsWith("#r", StringComparison.Ordinal) && (trimmed.Length == 2 || char.IsWhiteSpace(trimmed[2])))
            {
                Match m = s_reference.Match(trimmed);
                if (!m.Success)
                {
                    throw new CellDirectiveException($"cannot read the reference '{trimmed}': expected #r \"nuget: Name, Version\" or #r \"path.dll\".", lineInCell);
                }

                string target = m.Groups["target"].Value.Trim();
                if (target.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                {
                    Match p = s_nuget.Match(target);
                    if (!p.Success)
                    {
                        throw new CellDirectiveException($"cannot read the package reference '{trimmed}': expected #r \"nuget: Name, Version\".", lineInCell);
                    }

                    packages.Add(new PackageRequest(p.Groups["name"].Value, p.Groups["version"].Success ? p.Groups["version"].Value : null, lineInCell));
                    lines[i] = "";
                }
                else
                {
                    assemblies.Add(new AssemblyRequest(target, lineInCell));
                }
            }
            else if (trimmed.StartsWith("#i", StringComparison.Ordinal) && (trimmed.Length == 2 || char.IsWhiteSpace(trimmed[2])))
            {
                throw new CellDirectiveException($"'{trimmed}' (package sources) is not supported by the runner; packages come from the configured NuGet feeds.", lineInCell);
            }
        }

        return new CellDirectives(string.Join("\n", lines), packages, assemblies, imports, time);
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1] : s;
}

/// <summary>A directive in a cell the runner cannot honour.</summary>
public sealed class CellDirectiveException : Exception
{
    /// <summary>Creates the exception for a line of the cell.</summary>
    public CellDirectiveException(string message, int lineInCell)
        : base(message) => LineInCell = lineInCell;

    /// <summary>1-based line in the cell.</summary>
    public int LineInCell { get; }
}
