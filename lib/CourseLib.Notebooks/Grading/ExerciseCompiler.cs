using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using CourseLib.Interactive.Exercises;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace CourseLib.Notebooks.Grading;

/// <summary>
/// Compiles one exercise cell alone (the notebook's usings, the kernel's default imports, and references to
/// the BCL, CourseLib and CourseLib.Interactive only), takes the method the exercise names as a delegate and
/// grades it on the exercise's visible and hidden cases. Runs inside the grade worker process, because the
/// learner's code runs here and may not stop.
/// </summary>
internal static class ExerciseCompiler
{
    // The C# kernel's default imports (as the runner's ScriptSession uses).
    private static readonly string[] s_imports = ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"];

    private static readonly Lazy<ScriptOptions> s_options = new(() => ScriptOptions.Default
        .WithLanguageVersion(LanguageVersion.CSharp12)
        .WithImports(s_imports)
        .AddReferences(typeof(Enumerable).Assembly, typeof(List<>).Assembly, typeof(CourseLib.Checks.GradientChecker).Assembly, typeof(ExerciseMath).Assembly)
        .WithEmitDebugInformation(true)
        .WithFileEncoding(Encoding.UTF8));

    /// <summary>Grades one submission; <paramref name="compiled"/> is called once compilation is over and the learner's code is about to run.</summary>
    public static ExerciseGrade Grade(ExerciseSubmission s, Action compiled)
    {
        var clock = Stopwatch.StartNew();
        ExerciseSpec? spec = ExerciseCatalog.Find(s.Id);
        if (spec is null)
        {
            compiled();
            return ExerciseGrade.WithoutCases(s, ExerciseStatus.Failed,
                $"There is no exercise {s.Id}; the course has {string.Join(", ", ExerciseCatalog.All.Select(e => e.Id))}.", s.FirstLine, clock.Elapsed.TotalSeconds);
        }

        (Delegate? bound, ExerciseGrade? failure) = Compile(s, spec, compiled, clock);
        if (failure is not null)
        {
            return failure;
        }

        ExerciseEvaluation eval = spec.Evaluate(bound!, includeHidden: true);
        string? message = eval.Status switch
        {
            ExerciseStatus.NotAttempted => $"{spec.MethodName} still throws NotImplementedException (the stub).",
            ExerciseStatus.Passed => null,
            _ => string.Join("; ", eval.Cases.Where(c => !c.Passed).Take(3).Select(c => $"{c.Name}: {c.Message}")),
        };
        return new ExerciseGrade(s.NotebookPath, ExerciseGrade.LessonOf(s.Id), s.Id, spec.Title, spec.Points, eval.Score, eval.Status,
            eval.PassedCount, eval.Cases.Count, double.IsFinite(eval.MaxError) ? eval.MaxError : null, message,
            eval.Status == ExerciseStatus.Passed ? null : s.FirstLine, eval.Hints,
            eval.Cases.Select(c => new CaseGrade(c.Name, c.Hidden, c.Passed, double.IsFinite(c.MaxError) ? c.MaxError : null, c.Message)).ToArray(),
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Compiles the cell alone and returns the learner's method bound to the exercise's delegate type, or the
    /// grade that explains why there is none (compile error, missing method, wrong signature, the cell threw).
    /// </summary>
    internal static (Delegate? Learner, ExerciseGrade? Failure) Compile(ExerciseSubmission s, ExerciseSpec spec, Action compiled, Stopwatch clock)
    {
        // Usings that do not resolve here (a package the exercise does not need) are dropped, not reported.
        List<string> usings = [.. s.Usings];
        Script<object> script = Create(usings, s.Source);
        List<Diagnostic> errors = Errors(script);
        if (errors.Any(d => Line(d) < usings.Count))
        {
            var bad = errors.Where(d => Line(d) < usings.Count).Select(Line).ToHashSet();
            usings = usings.Where((_, i) => !bad.Contains(i)).ToList();
            script = Create(usings, s.Source);
            errors = Errors(script);
        }

        if (errors.Count > 0)
        {
            compiled();
            Diagnostic first = errors[0];
            int cellLine = Line(first) - usings.Count + 1;
            string text = string.Join("\n", errors.Take(5).Select(d =>
                $"{d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)} (line {s.FirstLine + Line(d) - usings.Count})"));
            return (null, ExerciseGrade.WithoutCases(s, ExerciseStatus.CompileError, text, s.FirstLine + cellLine - 1, clock.Elapsed.TotalSeconds));
        }

        Script<object> bind = script.ContinueWith($"System.Delegate __courselibExercise = {spec.MethodName};\n__courselibExercise");
        List<Diagnostic> bindErrors = Errors(bind);
        compiled();
        if (bindErrors.Count > 0)
        {
            string why = bindErrors.Any(d => d.Id == "CS0103")
                ? $"The cell does not declare a method named {spec.MethodName}; exercise {s.Id} expects `{spec.Signature}`."
                : $"{spec.MethodName} cannot be taken as a function ({bindErrors[0].Id}: {bindErrors[0].GetMessage(CultureInfo.InvariantCulture)}); declare exactly one `{spec.Signature}`.";
            return (null, ExerciseGrade.WithoutCases(s, ExerciseStatus.Failed, why, s.FirstLine, clock.Elapsed.TotalSeconds));
        }

        Delegate learner;
        try
        {
            learner = (Delegate)bind.RunAsync().GetAwaiter().GetResult().ReturnValue;
        }
        catch (Exception e)
        {
            Exception inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
            ExerciseStatus status = inner is NotImplementedException ? ExerciseStatus.NotAttempted : ExerciseStatus.Failed;
            return (null, ExerciseGrade.WithoutCases(s, status, $"Running the cell threw {inner.GetType().Name}: {inner.Message}", s.FirstLine, clock.Elapsed.TotalSeconds));
        }

        if (!spec.TryBind(learner, out Delegate? bound, out string? signatureError))
        {
            return (null, ExerciseGrade.WithoutCases(s, ExerciseStatus.Failed, "Wrong signature: " + signatureError, s.FirstLine, clock.Elapsed.TotalSeconds));
        }

        return (bound, null);
    }

    private static Script<object> Create(List<string> usings, string source)
    {
        // Usings go first, one per line, so diagnostic line L maps to cell line L − usings.Count.
        string code = usings.Count == 0 ? source : string.Join("\n", usings) + "\n" + source;
        return CSharpScript.Create(code, s_options.Value);
    }

    private static List<Diagnostic> Errors(Script script) =>
        script.Compile().Where(d => d.Severity == DiagnosticSeverity.Error).OrderBy(d => d.Location.SourceSpan.Start).ToList();

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line;
}
