using System.Diagnostics;
using System.Globalization;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;
using Microsoft.CodeAnalysis.Scripting;

namespace CourseLib.Notebooks.Execution;

/// <summary>Receives progress while a notebook runs.</summary>
public interface INotebookProgress
{
    /// <summary>Cell <paramref name="number"/> of <paramref name="total"/> is about to run.</summary>
    void CellStarted(int number, int total);

    /// <summary>A cell finished (any status).</summary>
    void CellFinished(CellResult result, int total);
}

/// <summary>
/// Runs a notebook's cells in order in this process, the way the C# kernel would: C# cells share one script
/// state; markdown and mermaid cells are shown, not run; a cell in any other kernel, an unsupported directive,
/// a compile error or an exception fails the cell and the remaining cells are not run. The working directory is
/// the notebook's folder while it runs, and console output is captured per cell. Timeouts are the caller's job
/// (the runner kills the worker process), because a cell in an endless loop cannot be stopped from inside.
/// </summary>
public sealed class NotebookExecutor
{
    private readonly NuGetRestorer _restorer;

    /// <summary>Creates an executor that restores packages with <paramref name="restorer"/>.</summary>
    public NotebookExecutor(NuGetRestorer restorer) => _restorer = restorer ?? throw new ArgumentNullException(nameof(restorer));

    /// <summary>Runs every cell and returns the outcome. Never throws for a failing notebook.</summary>
    public NotebookResult Run(NotebookDocument document, INotebookProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var clock = Stopwatch.StartNew();
        string folder = Path.GetDirectoryName(Path.GetFullPath(document.Path)) ?? Directory.GetCurrentDirectory();
        var outputs = new OutputCollector();
        var state = new NotebookState(document, folder, new ScriptSession(folder, new ScriptGlobals(outputs)), outputs);

        string previousDirectory = Directory.GetCurrentDirectory();
        TextWriter previousOut = Console.Out;
        TextWriter previousError = Console.Error;
        Directory.SetCurrentDirectory(folder);
        Console.SetOut(outputs.CreateWriter("stdout"));
        Console.SetError(outputs.CreateWriter("stderr"));
        var results = new List<CellResult>();
        try
        {
            int total = document.Cells.Count;
            if (document.Cells.Any(c => c.Kernel == KernelNames.CSharp))
            {
                state.Session.Start();
            }

            bool stopped = false;
            foreach (NotebookCell cell in document.Cells)
            {
                if (stopped)
                {
                    results.Add(new CellResult(cell.Number, CellStatus.NotRun, [], 0));
                    continue;
                }

                progress?.CellStarted(cell.Number, total);
                CellResult result = RunCell(cell, state);
                results.Add(result);
                stopped = result.Status == CellStatus.Failed;
                progress?.CellFinished(result, total);
            }
        }
        finally
        {
            Console.Out.Flush();
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            Directory.SetCurrentDirectory(previousDirectory);
        }

        return new NotebookResult(document, results, clock.Elapsed.TotalSeconds);
    }

    private CellResult RunCell(NotebookCell cell, NotebookState state)
    {
        var clock = Stopwatch.StartNew();
        state.Outputs.TakeAll();
        CellError? error = null;
        try
        {
            if (cell.Kernel is KernelNames.Markdown or KernelNames.Mermaid)
            {
                // Not executed: the renderer shows them.
            }
            else if (cell.Kernel != KernelNames.CSharp)
            {
                throw new CellFailure("kernel", $"this is a '{cell.Kernel}' cell; the runner executes C# cells only (and shows markdown and mermaid).", 1);
            }
            else
            {
                RunCSharp(cell.Source, ErrorLocator.SubmissionPath(state.Document.Path, cell.Number), state, allowTime: true);
            }
        }
        catch (CellFailure f)
        {
            int? lineInFile = f.LineInCell is int l ? cell.FirstLine + l - 1 : null;
            error = new CellError(f.Kind, $"{state.Document.Path}: cell {cell.Number}{(f.LineInCell is int li ? $", line {li} (file line {lineInFile})" : "")}: {f.Message}", f.LineInCell, lineInFile);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException or ArgumentException)
        {
            // Preparing the cell went wrong (an unreadable #r'd file, a corrupt restore): still this cell's failure.
            error = new CellError("directive", $"{state.Document.Path}: cell {cell.Number}: {e.GetType().Name}: {e.Message}", null, null);
        }

        IReadOnlyList<CellOutput> produced = state.Outputs.TakeAll();
        return new CellResult(cell.Number, error is null ? CellStatus.Succeeded : CellStatus.Failed, produced, clock.Elapsed.TotalSeconds, error);
    }

    /// <summary>Runs C# source with its directives: packages and references first, then imports, then the code.</summary>
    private void RunCSharp(string source, string submissionPath, NotebookState state, bool allowTime)
    {
        CellDirectives directives;
        try
        {
            directives = CellDirectives.Parse(source);
        }
        catch (CellDirectiveException e)
        {
            throw new CellFailure("directive", e.Message, e.LineInCell);
        }

        if (directives.Time && !allowTime)
        {
            throw new CellFailure("directive", "#!time is only supported in notebook cells, not in imported files.", null);
        }

        AddPackages(directives.Packages, state);
        foreach (AssemblyRequest reference in directives.Assemblies)
        {
            string path = Path.GetFullPath(reference.Path, state.Folder);
            // A missing file is left to Roslyn, which reports it (CS0006) at the directive's line like the kernel.
            if (File.Exists(path))
            {
                AssemblyResolver.Shared.AddReferencedFile(path);
            }
        }

        foreach (ImportRequest import in directives.Imports)
        {
            RunImport(import, state);
        }

        var clock = Stopwatch.StartNew();
        (bool hasValue, object? value) result;
        try
        {
            result = state.Session.Submit(directives.Code, submissionPath);
        }
        catch (CompilationErrorException e)
        {
            (int? line, string message) = ErrorLocator.Describe(e.Diagnostics, submissionPath);
            throw new CellFailure("compile", message, line);
        }
        catch (SubmissionException e)
        {
            (int? line, string message) = ErrorLocator.Describe(e.InnerException!, submissionPath);
            throw new CellFailure("exception", message, line);
        }

        if (result.hasValue)
        {
            (string mime, string text) = ValueFormatter.Format(result.value);
            state.Outputs.Display(mime, text);
        }

        if (directives.Time)
        {
            // As the kernel's #!time (dotnet/interactive KernelExtensions.UseTime): a text/plain display published
            // when the submission completes, "Wall time: {elapsed.TotalMilliseconds}ms".
            state.Outputs.Display(ValueFormatter.PlainText, $"Wall time: {clock.Elapsed.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms");
        }
    }

    private void AddPackages(IReadOnlyList<PackageRequest> requests, NotebookState state)
    {
        bool changed = false;
        foreach (PackageRequest request in requests)
        {
            if (state.Packages.TryGetValue(request.Name, out string? existing))
            {
                // A request without a version takes the one already added; the kernel refuses a second version.
                if (request.Version is not null && !string.Equals(existing, request.Version, StringComparison.OrdinalIgnoreCase))
                {
                    throw new CellFailure(
                        "directive",
                        $"{request.Name} version {request.Version} cannot be added because version {existing ?? "(latest)"} was added previously.",
                        request.LineInCell);
                }

                continue;
            }

            state.Packages[request.Name] = request.Version;
            changed = true;
        }

        if (!changed)
        {
            return;
        }

        RestoredPackages restored;
        try
        {
            // Restore everything asked for so far together, as the kernel does, so versions stay consistent.
            restored = _restorer.Restore(state.Packages);
        }
        catch (InvalidOperationException e)
        {
            throw new CellFailure("directive", e.Message, requests[0].LineInCell);
        }

        state.Session.AddReferences(restored.CompileAssemblies);
        AssemblyResolver.Shared.AddPackages(restored);
    }

    private void RunImport(ImportRequest import, NotebookState state)
    {
        string path = Path.GetFullPath(import.Path, state.Folder);
        if (!File.Exists(path))
        {
            throw new CellFailure("directive", $"#!import: file not found: {path}", import.LineInCell);
        }

        if (state.Importing.Contains(path) || path == Path.GetFullPath(state.Document.Path))
        {
            throw new CellFailure("directive", $"#!import: {path} imports itself (directly or through other imports).", import.LineInCell);
        }

        state.Importing.Push(path);
        try
        {
            switch (Path.GetExtension(path).ToLowerInvariant())
            {
                case ".cs":
                case ".csx":
                    RunCSharp(File.ReadAllText(path).ReplaceLineEndings("\n"), path, state, allowTime: false);
                    break;
                case ".dib":
                    NotebookDocument imported = DibParser.ParseFile(path);
                    foreach (NotebookCell cell in imported.Cells)
                    {
                        if (cell.Kernel is KernelNames.Markdown or KernelNames.Mermaid)
                        {
                            continue;
                        }

                        if (cell.Kernel != KernelNames.CSharp)
                        {
                            throw new CellFailure("kernel", $"cell {cell.Number} is a '{cell.Kernel}' cell; the runner executes C# cells only.", null);
                        }

                        try
                        {
                            RunCSharp(cell.Source, ErrorLocator.SubmissionPath(path, cell.Number), state, allowTime: false);
                        }
                        catch (CellFailure f)
                        {
                            throw new CellFailure(f.Kind, $"cell {cell.Number}{(f.LineInCell is int l ? $", line {l} (file line {cell.FirstLine + l - 1})" : "")}: {f.Message}", null);
                        }
                    }

                    break;
                default:
                    throw new CellFailure("directive", "#!import supports .dib, .cs and .csx files.", null);
            }
        }
        catch (CellFailure f)
        {
            // Report at the #!import line of the cell; the message says where in the imported file it went wrong.
            throw new CellFailure(f.Kind, $"in imported {path}: {f.Message}", import.LineInCell);
        }
        catch (DibParseException e)
        {
            throw new CellFailure("directive", e.Message, import.LineInCell);
        }
        finally
        {
            state.Importing.Pop();
        }
    }

    private sealed record NotebookState(NotebookDocument Document, string Folder, ScriptSession Session, OutputCollector Outputs)
    {
        public Dictionary<string, string?> Packages { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Files being imported right now, innermost on top, to refuse an import cycle.</summary>
        public Stack<string> Importing { get; } = new();
    }

    private sealed class CellFailure(string kind, string message, int? lineInCell) : Exception(message)
    {
        public string Kind { get; } = kind;

        public int? LineInCell { get; } = lineInCell;
    }
}
