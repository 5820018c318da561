namespace CourseLib.Notebooks.Model;

// The contract between the parser, the executor and the renderer. A run produces one NotebookResult per
// notebook (serialised as JSON between the worker process and the runner); the renderer turns those into
// the course site. Line numbers are 1-based; cell numbers are 1-based in document order after empty cells
// are dropped.

/// <summary>A parsed .dib file.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="DefaultKernel">Kernel of text before the first separator (from #!meta, else "csharp").</param>
/// <param name="Cells">Non-empty cells in order.</param>
/// <param name="KernelNames">Kernel names declared in #!meta (name and aliases), beyond the built-in ones.</param>
public sealed record NotebookDocument(string Path, string DefaultKernel, IReadOnlyList<NotebookCell> Cells, IReadOnlyList<string> KernelNames);

/// <summary>One cell: its kernel name as written (canonicalised: "csharp", "markdown", "fsharp", …) and its text.</summary>
/// <param name="Number">1-based position among the document's cells.</param>
/// <param name="Kernel">Canonical kernel name.</param>
/// <param name="Source">The cell text, LF line endings, empty lines trimmed at both ends.</param>
/// <param name="FirstLine">Line in the file of the first line of <paramref name="Source"/>.</param>
public sealed record NotebookCell(int Number, string Kernel, string Source, int FirstLine);

/// <summary>What happened to a cell.</summary>
public enum CellStatus
{
    /// <summary>Ran to completion (markdown cells are always this).</summary>
    Succeeded,

    /// <summary>Compile error, exception, unsupported directive/kernel or timeout; see <see cref="CellResult.Error"/>.</summary>
    Failed,

    /// <summary>Not executed because an earlier cell failed.</summary>
    NotRun,
}

/// <summary>One output of a cell, in the order produced. Display outputs that were updated hold their last value.</summary>
/// <param name="Kind">"display" (display(x) or the cell's value), "stdout" or "stderr".</param>
/// <param name="MimeType">"text/html" or "text/plain" for displays; "text/plain" for streams.</param>
/// <param name="Value">Formatted value (HTML fragment or text).</param>
/// <param name="DisplayId">Stable id of a display output, so Update(x) can replace it; null for streams.</param>
public sealed record CellOutput(string Kind, string MimeType, string Value, string? DisplayId = null);

/// <summary>Where and why a cell failed.</summary>
/// <param name="Kind">"compile", "exception", "timeout", "directive" or "kernel".</param>
/// <param name="Message">Compiler diagnostics or exception type and message (with the stack trace trimmed to the cell).</param>
/// <param name="LineInCell">1-based line in the cell, when known.</param>
/// <param name="LineInFile">1-based line in the .dib file, when known.</param>
public sealed record CellError(string Kind, string Message, int? LineInCell, int? LineInFile);

/// <summary>The outcome of one cell.</summary>
public sealed record CellResult(int Number, CellStatus Status, IReadOnlyList<CellOutput> Outputs, double Seconds, CellError? Error = null);

/// <summary>The outcome of one notebook.</summary>
/// <param name="Document">What was parsed.</param>
/// <param name="Cells">One result per cell of <see cref="NotebookDocument.Cells"/>, same order.</param>
/// <param name="Seconds">Wall time of the whole notebook.</param>
/// <param name="FatalError">A failure outside any cell (unreadable file, parse error, worker crash), else null.</param>
public sealed record NotebookResult(NotebookDocument Document, IReadOnlyList<CellResult> Cells, double Seconds, string? FatalError = null)
{
    /// <summary>True when every cell succeeded and nothing else went wrong.</summary>
    public bool Succeeded => FatalError is null && Cells.All(c => c.Status == CellStatus.Succeeded);
}
