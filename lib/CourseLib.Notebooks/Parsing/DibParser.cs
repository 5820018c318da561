using System.Text.Json;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Parsing;

/// <summary>
/// Splits a .dib file into cells with the rules of dotnet/interactive's
/// <c>Microsoft.DotNet.Interactive.Documents.CodeSubmission.Parse</c>:
/// <list type="bullet">
/// <item>lines are split on CRLF or LF;</item>
/// <item>the first line starting with <c>#!meta</c> opens a JSON block that runs to the next line starting with
/// <c>#!</c>; its <c>kernelInfo</c> declares the default kernel and extra kernel names;</item>
/// <item>a line <c>#!name</c> separates cells only when <c>name</c> is exactly (no trimming, case-sensitive) a
/// known kernel name or alias; any other <c>#!</c> line stays in the cell as a magic command;</item>
/// <item>text before the first separator belongs to the default kernel;</item>
/// <item>only empty lines are trimmed at a cell's ends (whitespace-only lines are kept), and empty cells dropped.</item>
/// </list>
/// </summary>
public static class DibParser
{
    private const string MagicPrefix = "#!";

    /// <summary>Reads and parses a .dib file.</summary>
    public static NotebookDocument ParseFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        return Parse(File.ReadAllText(full), full);
    }

    /// <summary>Parses .dib text. <paramref name="path"/> is recorded in the document and used in messages.</summary>
    /// <exception cref="DibParseException">The #!meta block is not valid JSON.</exception>
    public static NotebookDocument Parse(string content, string path)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(path);

        // string.Split(["\r\n", "\n"]) as in CodeSubmission; an empty file has no lines at all.
        string[] lines = content.Length == 0 ? [] : content.Split(["\r\n", "\n"], StringSplitOptions.None);
        var kernels = new KernelNames();
        var cells = new List<NotebookCell>();
        var current = new List<(string Text, int Line)>();
        string defaultKernel = KernelNames.CSharp;
        string currentKernel = defaultKernel;
        bool sawSeparator = false;
        bool foundMeta = false;

        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];

            if (!foundMeta && line.StartsWith("#!meta", StringComparison.Ordinal))
            {
                foundMeta = true;
                int metaLine = i + 1;
                var json = new System.Text.StringBuilder();
                // Same loop shape as CodeSubmission: if the file ends inside the block, the last line read is
                // treated below like any other line (the reference parser does the same).
                while (i < lines.Length - 1 && !(line = lines[++i]).StartsWith(MagicPrefix, StringComparison.Ordinal))
                {
                    json.AppendLine(line);
                }

                string? declaredDefault = ReadKernelInfo(json.ToString(), kernels, path, metaLine);
                if (declaredDefault is not null && !sawSeparator && current.Count == 0)
                {
                    // The contract's DefaultKernel comes from #!meta. CodeSubmission takes it from the caller
                    // (the host passes the notebook's default, which is what #!meta records), so the two agree.
                    defaultKernel = kernels.TryGetCanonical(declaredDefault, out string c) ? c : declaredDefault;
                    currentKernel = defaultKernel;
                }
            }

            if (line.StartsWith(MagicPrefix, StringComparison.Ordinal) &&
                kernels.TryGetCanonical(line[MagicPrefix.Length..], out string kernel))
            {
                AddCell();
                currentKernel = kernel;
                sawSeparator = true;
            }
            else
            {
                current.Add((line, i + 1));
            }
        }

        AddCell();
        return new NotebookDocument(path, defaultKernel, cells, kernels.Declared);

        void AddCell()
        {
            int start = 0;
            int end = current.Count;
            while (start < end && current[start].Text.Length == 0)
            {
                start++;
            }

            while (end > start && current[end - 1].Text.Length == 0)
            {
                end--;
            }

            if (end > start)
            {
                string source = string.Join("\n", current.Skip(start).Take(end - start).Select(l => l.Text));
                cells.Add(new NotebookCell(cells.Count + 1, currentKernel, source, current[start].Line));
            }

            current.Clear();
        }
    }

    /// <summary>Registers the kernels a #!meta block declares and returns its default kernel name, if any.</summary>
    private static string? ReadKernelInfo(string json, KernelNames kernels, string path, int line)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object ||
                !doc.RootElement.TryGetProperty("kernelInfo", out JsonElement info) ||
                info.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (info.TryGetProperty("items", out JsonElement items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement item in items.EnumerateArray())
                {
                    if (item.TryGetProperty("name", out JsonElement name) && name.ValueKind == JsonValueKind.String)
                    {
                        string[] aliases = item.TryGetProperty("aliases", out JsonElement a) && a.ValueKind == JsonValueKind.Array
                            ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray()
                            : [];
                        kernels.AddDeclared(name.GetString()!, aliases);
                    }
                }
            }

            return info.TryGetProperty("defaultKernelName", out JsonElement d) && d.ValueKind == JsonValueKind.String
                ? d.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new DibParseException($"{path}:{line}: the #!meta block is not valid JSON: {e.Message}", e);
        }
    }
}

/// <summary>A .dib file could not be parsed (only a malformed #!meta block can cause this).</summary>
public sealed class DibParseException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DibParseException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
