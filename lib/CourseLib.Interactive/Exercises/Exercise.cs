namespace CourseLib.Interactive.Exercises;

/// <summary>
/// What notebooks call after an exercise cell. <c>Exercise.Check("3.1", LayerNormForward)</c> runs the
/// visible cases and shows the result; <c>Exercise.Use("3.1", LayerNormForward)</c> returns the learner's
/// function when it passes them, and otherwise the library's — saying so — so later cells never break.
/// Neither throws for anything the learner's code does.
/// </summary>
public static class Exercise
{
    /// <summary>
    /// Runs the exercise's visible cases on <paramref name="implementation"/>, and on the library kernel;
    /// and on <paramref name="torch"/> (a TorchSharp twin with the same signature) when given: a three-way comparison.
    /// The result displays as a small report (cases passed, largest error, hints).
    /// </summary>
    /// <param name="id">Exercise id, e.g. "3.1".</param>
    /// <param name="implementation">The learner's method (a method group converts: <c>Exercise.Check("3.1", LayerNormForward)</c>).</param>
    /// <param name="torch">Optional TorchSharp implementation of the same signature.</param>
    /// <exception cref="ArgumentException">Unknown id (a notebook authoring error, not a learner's).</exception>
    public static ExerciseCheck Check(string id, Delegate implementation, Delegate? torch = null)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        ExerciseSpec spec = ExerciseCatalog.Get(id);
        ExerciseFormatters.EnsureRegistered();
        ExerciseEvaluation library = spec.Evaluate(spec.Library, includeHidden: false);
        ExerciseEvaluation? torchEval = null;
        string? torchError = null;
        if (torch is not null)
        {
            if (spec.TryBind(torch, out Delegate? boundTorch, out torchError))
            {
                torchEval = spec.Evaluate(boundTorch!, includeHidden: false);
            }
        }

        if (!spec.TryBind(implementation, out Delegate? bound, out string? error))
        {
            return new ExerciseCheck(spec, null, error, library, torchEval, torchError);
        }

        return new ExerciseCheck(spec, spec.Evaluate(bound!, includeHidden: false), null, library, torchEval, torchError);
    }

    /// <summary>
    /// The learner's function if it passes the visible cases of exercise <paramref name="id"/>, otherwise the
    /// library's (unfinished stub, wrong results, exception), with a line on standard output saying which.
    /// </summary>
    /// <typeparam name="TDelegate">The exercise's delegate type (see <see cref="ExerciseSpec.DelegateType"/>).</typeparam>
    /// <exception cref="ArgumentException">Unknown id, or <typeparamref name="TDelegate"/> is not the exercise's delegate type.</exception>
    public static TDelegate Use<TDelegate>(string id, TDelegate implementation)
        where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(implementation);
        ExerciseSpec spec = ExerciseCatalog.Get(id);
        if (spec.DelegateType != typeof(TDelegate))
        {
            throw new ArgumentException($"Exercise {id} is `{spec.Signature}` ({spec.DelegateType.Name}), not {typeof(TDelegate).Name}.", nameof(implementation));
        }

        ExerciseEvaluation eval = spec.Evaluate(implementation, includeHidden: false);
        switch (eval.Status)
        {
            case ExerciseStatus.Passed:
                Console.WriteLine($"Exercise {id} ({spec.Title}): using your {spec.MethodName} — it passes the checks.");
                return implementation;
            case ExerciseStatus.NotAttempted:
                Console.WriteLine($"Exercise {id} ({spec.Title}) is not done yet: using the library's implementation instead.");
                break;
            default:
                Console.WriteLine($"Exercise {id} ({spec.Title}): your {spec.MethodName} passes {eval.PassedCount}/{eval.Cases.Count} checks, so the library's implementation is used instead (run the check cell for details).");
                break;
        }

        return (TDelegate)spec.Library;
    }

    // Overloads per exercise signature: a method group (LayerNormForward) has no type of its own to infer
    // TDelegate from, but it converts to exactly one of these parameter types.

    /// <summary>Use for exercises of shape <c>float[] F(float[] x)</c> (2.1, 2.2).</summary>
    public static Func<float[], float[]> Use(string id, Func<float[], float[]> implementation) => Use<Func<float[], float[]>>(id, implementation);

    /// <summary>Use for 1.1 (FFN forward).</summary>
    public static Func<float[], float[], float[], float[], float[], int, int, float[]> Use(string id, Func<float[], float[], float[], float[], float[], int, int, float[]> implementation) =>
        Use<Func<float[], float[], float[], float[], float[], int, int, float[]>>(id, implementation);

    /// <summary>Use for 3.1 (LayerNorm forward).</summary>
    public static Func<float[], float[], float[], int, int, float, float[]> Use(string id, Func<float[], float[], float[], int, int, float, float[]> implementation) =>
        Use<Func<float[], float[], float[], int, int, float, float[]>>(id, implementation);

    /// <summary>Use for 3.2 (LayerNorm backward).</summary>
    public static Func<float[], float[], float[], int, int, float, (float[] Dx, float[] DGamma, float[] DBeta)> Use(string id, Func<float[], float[], float[], int, int, float, (float[] Dx, float[] DGamma, float[] DBeta)> implementation) =>
        Use<Func<float[], float[], float[], int, int, float, (float[], float[], float[])>>(id, implementation);

    /// <summary>Use for 4.1 (residual block).</summary>
    public static Func<float[], Func<float[], float[]>, float, float[]> Use(string id, Func<float[], Func<float[], float[]>, float, float[]> implementation) =>
        Use<Func<float[], Func<float[], float[]>, float, float[]>>(id, implementation);

    /// <summary>Use for 5.1 (learning-rate schedule).</summary>
    public static Func<int, int, int, float, float, float> Use(string id, Func<int, int, int, float, float, float> implementation) =>
        Use<Func<int, int, int, float, float, float>>(id, implementation);

    /// <summary>Use for 5.2 (Pre-LN sublayer).</summary>
    public static Func<float[], float[], float[], Func<float[], float[]>, int, int, float, float[]> Use(string id, Func<float[], float[], float[], Func<float[], float[]>, int, int, float, float[]> implementation) =>
        Use<Func<float[], float[], float[], Func<float[], float[]>, int, int, float, float[]>>(id, implementation);

    /// <summary>Use for 7.1 (fused bias + GELU).</summary>
    public static Func<float[], float[], int, int, float[]> Use(string id, Func<float[], float[], int, int, float[]> implementation) =>
        Use<Func<float[], float[], int, int, float[]>>(id, implementation);

    /// <summary>Use for 7.2 (int8 per-channel weight quantization).</summary>
    public static Func<float[], int, int, (sbyte[] Q, float[] Scales)> Use(string id, Func<float[], int, int, (sbyte[] Q, float[] Scales)> implementation) =>
        Use<Func<float[], int, int, (sbyte[], float[])>>(id, implementation);

    /// <summary>Use for 6.1 (Post-LN block).</summary>
    public static Func<float[], Func<float[], float[]>, Func<float[], float[]>, float[], float[], float[], float[], int, int, float, float[]> Use(string id, Func<float[], Func<float[], float[]>, Func<float[], float[]>, float[], float[], float[], float[], int, int, float, float[]> implementation) =>
        Use<Func<float[], Func<float[], float[]>, Func<float[], float[]>, float[], float[], float[], float[], int, int, float, float[]>>(id, implementation);

    /// <summary>Use for 6.2 (sampling the next token).</summary>
    public static Func<float[], float, double, int> Use(string id, Func<float[], float, double, int> implementation) =>
        Use<Func<float[], float, double, int>>(id, implementation);

    /// <summary>Use for 8.1 (top-k routing).</summary>
    public static Func<float[], int, int, int, (int[] Experts, float[] Gates)> Use(string id, Func<float[], int, int, int, (int[] Experts, float[] Gates)> implementation) =>
        Use<Func<float[], int, int, int, (int[], float[])>>(id, implementation);

    /// <summary>Use for 8.2 (Switch load-balancing loss).</summary>
    public static Func<float[], int[], int, int, float, float> Use(string id, Func<float[], int[], int, int, float, float> implementation) =>
        Use<Func<float[], int[], int, int, float, float>>(id, implementation);
}
