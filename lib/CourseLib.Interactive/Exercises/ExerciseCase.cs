using System.Reflection;

namespace CourseLib.Interactive.Exercises;

/// <summary>One named output of a case, e.g. "dx" of a backward pass.</summary>
/// <param name="Name">Output name as the exercise text uses it.</param>
/// <param name="Values">Row-major values.</param>
public sealed record CaseOutput(string Name, float[] Values);

/// <summary>Element-wise closeness: |actual − expected| ≤ Absolute + Relative·|expected|, as numpy.allclose.</summary>
/// <param name="Absolute">Absolute part (matters near zero).</param>
/// <param name="Relative">Relative part (matters for large values).</param>
internal sealed record Tolerance(double Absolute, double Relative)
{
    /// <summary>Forward passes in float against a double oracle: a few float ulps of the values involved.</summary>
    public static readonly Tolerance Forward = new(2e-5, 1e-4);

    /// <summary>Backward passes sum more terms (and finite differences carry O(h²) error), so allow more.</summary>
    public static readonly Tolerance Backward = new(2e-4, 1e-3);
}

/// <summary>Thrown by a case when the function under test wrote into one of its inputs.</summary>
internal sealed class InputModifiedException(string argument)
    : Exception($"it changed its input `{argument}`; inputs are read-only — write results to a new array.")
{
    public string Argument { get; } = argument;
}

/// <summary>
/// One case: how to call a function of type <typeparamref name="TDelegate"/> on fixed inputs, and what it
/// must return. Inputs are captured by the closures; <see cref="Invoke"/> passes copies and checks them after.
/// </summary>
internal sealed class ExerciseCase<TDelegate>(string name, bool hidden, Func<TDelegate, CaseOutput[]> invoke,
    Func<CaseOutput[]> expected, Tolerance tolerance)
    where TDelegate : Delegate
{
    private readonly Lazy<CaseOutput[]> _expected = new(expected);

    public string Name { get; } = name;

    public bool Hidden { get; } = hidden;

    public Tolerance Tolerance { get; } = tolerance;

    public CaseOutput[] Expected => _expected.Value;

    public Func<TDelegate, CaseOutput[]> Invoke { get; } = invoke;

    /// <summary>Calls <paramref name="candidate"/> and compares; outputs are returned when the call produced any.</summary>
    public (CaseResult Result, CaseOutput[]? Outputs) Run(TDelegate candidate)
    {
        CaseOutput[] outputs;
        try
        {
            outputs = Invoke(candidate);
        }
        catch (Exception e)
        {
            Exception inner = Unwrap(e);
            return inner switch
            {
                NotImplementedException => (new CaseResult(Name, Hidden, false, double.NaN, "not implemented yet: " + inner.Message, null, NotImplemented: true), null),
                InputModifiedException m => (new CaseResult(Name, Hidden, false, double.NaN, "failed: " + m.Message,
                    $"Your function modified its input `{m.Argument}`. Treat inputs as read-only and allocate the result."), null),
                _ => (new CaseResult(Name, Hidden, false, double.NaN, $"threw {inner.GetType().Name}: {inner.Message}",
                    ExceptionHint(inner)), null),
            };
        }

        (bool ok, double err, string? message, string? hint) = Compare(outputs, Expected, Tolerance);
        return (new CaseResult(Name, Hidden, ok, err, message, hint), outputs);
    }

    /// <summary>True when <paramref name="model"/> (a mistake) reproduces <paramref name="learnerOutputs"/> on this case.</summary>
    public bool Matches(TDelegate model, CaseOutput[] learnerOutputs)
    {
        CaseOutput[] modelOutputs;
        try
        {
            modelOutputs = Invoke(model);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }

        return Compare(learnerOutputs, modelOutputs, Tolerance).Ok;
    }

    private static Exception Unwrap(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner })
        {
            e = inner;
        }

        return e;
    }

    private static string? ExceptionHint(Exception e) => e switch
    {
        IndexOutOfRangeException => "An index went out of range: check the row-major index (row·C + column) and the sizes of each buffer.",
        NullReferenceException => "Something was null: did you return an array for every output?",
        _ => null,
    };

    /// <summary>Compares outputs; the error reported is the largest |a − e| / max(|e|∞, 1e-6) over outputs.</summary>
    internal static (bool Ok, double MaxError, string? Message, string? Hint) Compare(CaseOutput[] actual, CaseOutput[] expected, Tolerance tol)
    {
        if (actual.Length != expected.Length)
        {
            return (false, double.NaN, $"returned {actual.Length} outputs, expected {expected.Length}", null);
        }

        double worst = 0;
        string? firstFailure = null;
        string? hint = null;
        for (int o = 0; o < expected.Length; o++)
        {
            float[]? a = actual[o].Values;
            float[] e = expected[o].Values;
            string what = expected[o].Name;
            if (a is null)
            {
                return (false, double.NaN, $"{what} is null", "Return an array for every output.");
            }

            if (a.Length != e.Length)
            {
                return (false, double.NaN, $"{what} has {a.Length} elements, expected {e.Length}",
                    "An output has the wrong length: check its shape against the exercise text.");
            }

            double maxDiff = 0, maxRef = 1e-6;
            int worstIndex = -1;
            bool allZero = e.Length > 0;
            for (int i = 0; i < e.Length; i++)
            {
                maxRef = Math.Max(maxRef, Math.Abs((double)e[i]));
                if (a[i] != 0)
                {
                    allZero = false;
                }

                double diff = Math.Abs((double)a[i] - e[i]);
                // NaN matches NaN only when comparing with a mistake's model (oracles never produce NaN).
                bool close = diff <= tol.Absolute + tol.Relative * Math.Abs((double)e[i]) || a[i] == e[i]
                    || (float.IsNaN(a[i]) && float.IsNaN(e[i]));
                if (double.IsNaN(diff) && !close)
                {
                    diff = double.PositiveInfinity;
                    close = false;
                    hint ??= float.IsNaN(a[i]) ? "Your result contains NaN: look for 0/0 or the square root of a negative number." : null;
                }

                if (!close && worstIndex < 0)
                {
                    worstIndex = i;
                }

                if (!double.IsNaN(diff) && diff > maxDiff)
                {
                    maxDiff = diff;
                }
            }

            double rel = maxDiff / maxRef;
            worst = Math.Max(worst, rel);
            if (worstIndex >= 0 && firstFailure is null)
            {
                firstFailure = $"{what}[{worstIndex}] = {a[worstIndex]:G6}, expected {e[worstIndex]:G6}";
                if (allZero && e.Any(v => v != 0))
                {
                    hint ??= $"{what} is all zeros: did you fill the result array?";
                }
            }
        }

        return (firstFailure is null, worst, firstFailure, hint);
    }
}
