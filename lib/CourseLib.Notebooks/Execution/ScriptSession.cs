using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive.Formatting;

namespace CourseLib.Notebooks.Execution;

/// <summary>
/// One Roslyn script state for a notebook: each submission continues the previous one, so variables, types and
/// usings carry over from cell to cell, as in the C# kernel. Options follow the kernel
/// (dotnet/interactive src/Microsoft.DotNet.Interactive.CSharp/CSharpKernel.cs: C# 12, the imports below,
/// metadata and source resolvers rooted at the working directory) plus debug information so exceptions carry
/// cell line numbers.
/// </summary>
public sealed class ScriptSession
{
    // Script.HasReturnValue is internal; the kernel reads it the same way to decide whether a cell shows a value.
    private static readonly MethodInfo s_hasReturnValue = typeof(Script).GetMethod("HasReturnValue", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Roslyn's Script.HasReturnValue was not found; the scripting package changed.");

    // The kernel's UseDefaultFormatting submits these usings before the first cell.
    private const string Preamble = "using static Microsoft.DotNet.Interactive.Formatting.PocketViewTags;\nusing Microsoft.DotNet.Interactive.Formatting;";

    private readonly ScriptGlobals _globals;
    private readonly HashSet<string> _references = new(StringComparer.Ordinal);
    private ScriptOptions _options;
    private ScriptState<object>? _state;

    /// <summary>Creates a session whose relative paths resolve from <paramref name="workingDirectory"/>.</summary>
    public ScriptSession(string workingDirectory, ScriptGlobals globals)
    {
        ArgumentException.ThrowIfNullOrEmpty(workingDirectory);
        _globals = globals ?? throw new ArgumentNullException(nameof(globals));
        _options = ScriptOptions.Default
            .WithLanguageVersion(LanguageVersion.CSharp12)
            .AddImports("System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq")
            .AddReferences(typeof(Enumerable).Assembly, typeof(IEnumerable<>).Assembly, typeof(Task<>).Assembly, typeof(Formatter).Assembly)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(workingDirectory))
            .WithSourceResolver(new SourceFileResolver(ImmutableArray<string>.Empty, workingDirectory))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8);
    }

    /// <summary>
    /// Runs the preamble now, if it has not run: the first compilation warms up Roslyn (seconds on a busy
    /// machine), which should not count against the first cell's time or timeout.
    /// </summary>
    public void Start() =>
        _state ??= CSharpScript.RunAsync(Preamble, _options, _globals, typeof(ScriptGlobals)).GetAwaiter().GetResult();

    /// <summary>Adds assemblies for the following submissions to compile against.</summary>
    public void AddReferences(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        string[] added = paths.Where(_references.Add).ToArray();
        if (added.Length > 0)
        {
            _options = _options.AddReferences(added.Select(p => MetadataReference.CreateFromFile(p)));
        }
    }

    /// <summary>
    /// Compiles and runs one submission. Returns whether it produced a value (its last statement is an
    /// expression without a semicolon) and the value.
    /// </summary>
    /// <exception cref="CompilationErrorException">The code does not compile.</exception>
    /// <exception cref="SubmissionException">The code threw; the inner exception is what it threw.</exception>
    public (bool HasValue, object? Value) Submit(string code, string submissionPath)
    {
        ArgumentNullException.ThrowIfNull(code);
        Start();
        ScriptOptions options = _options.WithFilePath(submissionPath);
        ScriptState<object> next = _state!.ContinueWithAsync(code, options, catchException: _ => true).GetAwaiter().GetResult();
        if (next.Exception is not null)
        {
            throw new SubmissionException(next.Exception);
        }

        _state = next;
        bool hasValue = (bool)s_hasReturnValue.Invoke(next.Script, null)!;
        return (hasValue, hasValue ? next.ReturnValue : null);
    }
}

/// <summary>A submission threw; <see cref="Exception.InnerException"/> is what it threw.</summary>
public sealed class SubmissionException : Exception
{
    /// <summary>Wraps what the submission threw.</summary>
    public SubmissionException(Exception thrown)
        : base(thrown?.Message, thrown)
    {
    }
}
