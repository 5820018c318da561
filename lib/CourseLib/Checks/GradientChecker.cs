namespace CourseLib.Checks;

/// <summary>
/// Central finite differences in double precision, shared by the tests and the lessons.
/// For a scalar loss L(θ), dL/dθᵢ ≈ (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h, error O(h²).
/// </summary>
public static class GradientChecker
{
    /// <summary>
    /// Numerical gradient of <paramref name="loss"/> with respect to every element of <paramref name="parameters"/>.
    /// The loss is evaluated in double; the parameters are perturbed in place and restored exactly.
    /// </summary>
    /// <param name="parameters">The values to perturb (e.g. an input or weight buffer).</param>
    /// <param name="loss">Recomputes the loss from the current contents of <paramref name="parameters"/>.</param>
    /// <param name="step">h; 1e-3 balances truncation against float rounding for float32 kernels.</param>
    public static double[] Numerical(float[] parameters, Func<double> loss, double step = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return Numerical(parameters, loss, Enumerable.Range(0, parameters.Length).ToArray(), step);
    }

    /// <summary>
    /// Numerical gradient at the chosen <paramref name="indices"/> only (a sample of a large tensor, where checking
    /// every element would take one loss evaluation pair each). Element k of the result belongs to indices[k].
    /// </summary>
    /// <param name="parameters">The values to perturb; restored exactly afterwards.</param>
    /// <param name="loss">Recomputes the loss from the current contents of <paramref name="parameters"/>.</param>
    /// <param name="indices">Which elements to differentiate.</param>
    /// <param name="step">h.</param>
    public static double[] Numerical(float[] parameters, Func<double> loss, IReadOnlyList<int> indices, double step)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(indices);
        var grad = new double[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            int i = indices[k];
            if ((uint)i >= (uint)parameters.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"index {i} is outside parameters (length {parameters.Length}).");
            }

            float saved = parameters[i];
            parameters[i] = (float)(saved + step);
            double plus = loss();
            parameters[i] = (float)(saved - step);
            double minus = loss();
            parameters[i] = saved;
            // Divide by the step actually taken after rounding to float, not the nominal one.
            double taken = (double)(float)(saved + step) - (float)(saved - step);
            grad[k] = (plus - minus) / taken;
        }

        return grad;
    }

    /// <summary>Largest |a − b| / max(|b|_∞, floor): the relative error the course reports everywhere.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double floor = 1e-6)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"actual has {actual.Length} elements, expected has {expected.Length}.", nameof(actual));
        }

        double maxDiff = 0, maxRef = floor;
        for (int i = 0; i < actual.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }

        return maxDiff / maxRef;
    }
}
