using System.Reflection;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// One graded exercise: what the learner implements (a method of known name and delegate type), the cases
/// it is checked on (visible ones for the inline check, hidden ones added by the grader), the library's
/// implementation (the fallback and the third opinion) and the typical mistakes that turn a wrong answer
/// into a hint.
/// </summary>
public abstract class ExerciseSpec
{
    private protected ExerciseSpec(string id, string title, double points, string methodName, string signature, Type delegateType)
    {
        Id = id;
        Title = title;
        Points = points;
        MethodName = methodName;
        Signature = signature;
        DelegateType = delegateType;
    }

    /// <summary>The id, "lesson.number", e.g. "3.1"; the notebook marker is <c>// Exercise 3.1: …</c>.</summary>
    public string Id { get; }

    /// <summary>Short title shown in checks and reports, e.g. "LayerNorm forward".</summary>
    public string Title { get; }

    /// <summary>Points for a fully correct solution.</summary>
    public double Points { get; }

    /// <summary>Name of the method the exercise cell declares, e.g. <c>LayerNormForward</c>.</summary>
    public string MethodName { get; }

    /// <summary>The C# declaration the learner implements, as shown in the stub.</summary>
    public string Signature { get; }

    /// <summary>The delegate type the learner's method must convert to.</summary>
    public Type DelegateType { get; }

    /// <summary>The library's implementation (same delegate type): the fallback for unfinished exercises.</summary>
    public abstract Delegate Library { get; }

    /// <summary>Names of the typical mistakes this exercise recognises.</summary>
    public abstract IReadOnlyList<string> MistakeNames { get; }

    /// <summary>
    /// Checks <paramref name="candidate"/> on the visible cases, plus the hidden ones when <paramref name="includeHidden"/>.
    /// Never throws for anything the candidate does: exceptions, wrong shapes, NaN and mutated inputs become failed cases.
    /// </summary>
    /// <param name="candidate">The learner's method, as any delegate whose signature matches <see cref="Signature"/>.</param>
    /// <param name="includeHidden">True for the grader.</param>
    /// <exception cref="ArgumentException">The delegate's signature does not match (see <see cref="TryBind"/>).</exception>
    public abstract ExerciseEvaluation Evaluate(Delegate candidate, bool includeHidden);

    /// <summary>The hint shown when a learner's results match the mistake <paramref name="mistakeName"/>.</summary>
    /// <exception cref="ArgumentException">No mistake of that name.</exception>
    public abstract string HintFor(string mistakeName);

    /// <summary>
    /// Runs the model of the typical mistake <paramref name="mistakeName"/> (one of <see cref="MistakeNames"/>) through
    /// the cases, as if a learner had written it: shows what that mistake looks like and proves its hint is reachable.
    /// </summary>
    /// <exception cref="ArgumentException">No mistake of that name.</exception>
    public abstract ExerciseEvaluation EvaluateMistake(string mistakeName, bool includeHidden);

    /// <summary>
    /// Converts any delegate with the expected parameter and return types to <see cref="DelegateType"/>,
    /// or explains what differs (so a wrong signature reads as such, not as a cast error).
    /// </summary>
    public bool TryBind(Delegate candidate, out Delegate? bound, out string? error)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        bound = null;
        if (DelegateType.IsInstanceOfType(candidate))
        {
            bound = candidate;
            error = null;
            return true;
        }

        MethodInfo expected = DelegateType.GetMethod("Invoke")!;
        MethodInfo actual = candidate.GetType().GetMethod("Invoke")!;
        Type[] expectedParams = expected.GetParameters().Select(p => p.ParameterType).ToArray();
        Type[] actualParams = actual.GetParameters().Select(p => p.ParameterType).ToArray();
        if (!expectedParams.SequenceEqual(actualParams) || expected.ReturnType != actual.ReturnType)
        {
            error = $"Exercise {Id} expects `{Signature}`, but {MethodName} is `{Describe(actual)}`.";
            return false;
        }

        bound = Delegate.CreateDelegate(DelegateType, candidate, actual);
        error = null;
        return true;
    }

    /// <summary>C#-like text of a delegate's signature, for messages.</summary>
    internal static string Describe(MethodInfo invoke) =>
        $"{TypeName(invoke.ReturnType)} ({string.Join(", ", invoke.GetParameters().Select(p => TypeName(p.ParameterType)))})";

    private static string TypeName(Type t)
    {
        if (t == typeof(float)) return "float";
        if (t == typeof(int)) return "int";
        if (t == typeof(double)) return "double";
        if (t == typeof(sbyte)) return "sbyte";
        if (t == typeof(void)) return "void";
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[]";
        if (t.IsGenericType)
        {
            string[] args = t.GetGenericArguments().Select(TypeName).ToArray();
            if (t.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal))
            {
                return "(" + string.Join(", ", args) + ")";
            }

            return t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)] + "<" + string.Join(", ", args) + ">";
        }

        return t.Name;
    }
}

/// <summary>An exercise whose learner method converts to <typeparamref name="TDelegate"/>.</summary>
/// <typeparam name="TDelegate">E.g. <c>Func&lt;float[], float[]&gt;</c> for an element-wise activation.</typeparam>
public sealed class ExerciseSpec<TDelegate> : ExerciseSpec
    where TDelegate : Delegate
{
    private readonly TDelegate _library;
    private readonly Func<IReadOnlyList<ExerciseCase<TDelegate>>> _cases;
    private readonly IReadOnlyList<Mistake<TDelegate>> _mistakes;
    private IReadOnlyList<ExerciseCase<TDelegate>>? _builtCases;

    internal ExerciseSpec(string id, string title, double points, string methodName, string signature,
        TDelegate library, Func<IReadOnlyList<ExerciseCase<TDelegate>>> cases, IReadOnlyList<Mistake<TDelegate>> mistakes)
        : base(id, title, points, methodName, signature, typeof(TDelegate))
    {
        _library = library;
        _cases = cases;
        _mistakes = mistakes;
    }

    /// <inheritdoc/>
    public override Delegate Library => _library;

    /// <summary>The library's implementation, typed.</summary>
    public TDelegate LibraryFunction => _library;

    /// <inheritdoc/>
    public override IReadOnlyList<string> MistakeNames => _mistakes.Select(m => m.Name).ToArray();

    // Built on first use: hidden cases include finite differences that cost a few milliseconds.
    internal IReadOnlyList<ExerciseCase<TDelegate>> Cases => _builtCases ??= _cases();

    /// <inheritdoc/>
    public override ExerciseEvaluation Evaluate(Delegate candidate, bool includeHidden)
    {
        if (!TryBind(candidate, out Delegate? bound, out string? error))
        {
            throw new ArgumentException(error, nameof(candidate));
        }

        return Evaluate((TDelegate)bound!, includeHidden);
    }

    /// <summary>Typed form of <see cref="Evaluate(Delegate, bool)"/>.</summary>
    public ExerciseEvaluation Evaluate(TDelegate candidate, bool includeHidden)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var selected = Cases.Where(c => includeHidden || !c.Hidden).ToArray();
        var results = new List<CaseResult>(selected.Length);
        var failedOutputs = new List<(ExerciseCase<TDelegate> Case, CaseOutput[] Outputs)>();
        foreach (ExerciseCase<TDelegate> c in selected)
        {
            (CaseResult result, CaseOutput[]? outputs) = c.Run(candidate);
            results.Add(result);
            if (!result.Passed && outputs is not null)
            {
                failedOutputs.Add((c, outputs));
            }
        }

        var hints = new List<string>();
        // A mistake is named only when it explains every failure we could compare, so one coincidence
        // does not produce a misleading hint.
        if (failedOutputs.Count > 0)
        {
            foreach (Mistake<TDelegate> m in _mistakes)
            {
                bool explainsAll = failedOutputs.All(f => f.Case.Matches(m.Model, f.Outputs));
                if (explainsAll && !hints.Contains(m.Hint))
                {
                    hints.Add(m.Hint);
                }
            }
        }

        foreach (string generic in results.Where(r => !r.Passed && r.Hint is not null).Select(r => r.Hint!).Distinct())
        {
            hints.Add(generic);
        }

        return new ExerciseEvaluation(Id, Title, Points, results, hints);
    }

    /// <inheritdoc/>
    public override string HintFor(string mistakeName) => Find(mistakeName).Hint;

    /// <inheritdoc/>
    public override ExerciseEvaluation EvaluateMistake(string mistakeName, bool includeHidden) => Evaluate(Find(mistakeName).Model, includeHidden);

    private Mistake<TDelegate> Find(string mistakeName) =>
        _mistakes.FirstOrDefault(m => m.Name == mistakeName)
        ?? throw new ArgumentException($"Exercise {Id} has no mistake \"{mistakeName}\"; it has {string.Join(", ", MistakeNames)}.", nameof(mistakeName));
}

/// <summary>A typical wrong answer: a model of it, and what to tell a learner whose results match it.</summary>
internal sealed record Mistake<TDelegate>(string Name, string Hint, TDelegate Model)
    where TDelegate : Delegate;
