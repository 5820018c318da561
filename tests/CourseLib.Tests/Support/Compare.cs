namespace CourseLib.Tests.Support;

/// <summary>Assertions that report the largest difference and where it is, as llm.c's checks do.</summary>
internal static class Compare
{
    /// <summary>
    /// Asserts max|a − b| ≤ atol + rtol·max|b|. The message gives the index and both values of the worst element.
    /// </summary>
    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol, string what)
    {
        Assert.True(actual.Length == expected.Length, $"{what}: length {actual.Length} vs {expected.Length}");
        double maxDiff = 0, maxRef = 0;
        int worst = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            if (double.IsNaN(d) && !(float.IsNaN(actual[i]) && float.IsNaN(expected[i])))
            {
                d = double.PositiveInfinity;
            }

            if (d > maxDiff)
            {
                maxDiff = d;
                worst = i;
            }

            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }

        double bound = atol + rtol * maxRef;
        Assert.True(maxDiff <= bound,
            $"{what}: max|diff| = {maxDiff:E3} at [{worst}] (got {(worst >= 0 ? actual[worst] : 0)}, want {(worst >= 0 ? expected[worst] : 0)}), " +
            $"bound {bound:E3} = {atol:E1} + {rtol:E1}·max|ref| ({maxRef:E3})");
    }

    /// <summary>Same check against a double-precision reference (finite differences).</summary>
    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, double atol, string what)
    {
        var e = new float[expected.Length];
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = (float)expected[i];
        }

        Close(actual, e, rtol, atol, what);
    }

    /// <summary>Deterministic inputs: N(0, scale²) from a fixed seed.</summary>
    public static float[] Randn(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = scale * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return a;
    }
}
