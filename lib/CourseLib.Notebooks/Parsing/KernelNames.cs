namespace CourseLib.Notebooks.Parsing;

/// <summary>
/// The kernels a .dib file can name in a cell separator, with their aliases. These are the kernels a default
/// Polyglot Notebooks session registers (C#, F#, PowerShell, HTML, JavaScript, Mermaid, SQL, KQL, value) plus
/// markdown, which CodeSubmission.Parse always adds as a splitter. A #!meta block can declare more.
/// </summary>
public sealed class KernelNames
{
    /// <summary>The canonical name of the C# kernel.</summary>
    public const string CSharp = "csharp";

    /// <summary>The canonical name of markdown cells.</summary>
    public const string Markdown = "markdown";

    /// <summary>The canonical name of mermaid cells.</summary>
    public const string Mermaid = "mermaid";

    private static readonly (string Name, string[] Aliases)[] s_builtIn =
    [
        (CSharp, ["c#", "cs", "C#"]),
        ("fsharp", ["f#", "fs", "F#"]),
        (Markdown, ["md"]),
        ("html", []),
        ("javascript", ["js"]),
        (Mermaid, []),
        ("pwsh", ["powershell"]),
        ("sql", []),
        ("kql", []),
        ("value", []),
    ];

    private readonly Dictionary<string, string> _byAlias = new(StringComparer.Ordinal);
    private readonly List<string> _declared = [];

    /// <summary>Creates the collection of built-in kernel names.</summary>
    public KernelNames()
    {
        foreach ((string name, string[] aliases) in s_builtIn)
        {
            Add(name, aliases, declared: false);
        }
    }

    /// <summary>Names and aliases declared by the document's #!meta block that were not already known.</summary>
    public IReadOnlyList<string> Declared => _declared;

    /// <summary>Adds a kernel declared in #!meta. A name or alias already known keeps its first meaning.</summary>
    public void AddDeclared(string name, IEnumerable<string> aliases) => Add(name, aliases, declared: true);

    /// <summary>
    /// Looks up the canonical kernel name for a separator's text (what follows <c>#!</c>). The comparison is
    /// exact and case-sensitive, and whitespace is not trimmed, as in dotnet/interactive's KernelInfoCollection.
    /// </summary>
    public bool TryGetCanonical(string nameOrAlias, out string canonical) =>
        _byAlias.TryGetValue(nameOrAlias, out canonical!);

    private void Add(string name, IEnumerable<string> aliases, bool declared)
    {
        foreach (string alias in aliases.Prepend(name))
        {
            if (alias.Length > 0 && _byAlias.TryAdd(alias, name) && declared)
            {
                _declared.Add(alias);
            }
        }
    }
}
