namespace CourseLib.Interactive.Exercises;

/// <summary>Seeded inputs for the cases: the same seed gives the same data on every machine and .NET version.</summary>
internal static class CaseData
{
    // new Random(seed) is the legacy seeded generator, whose sequence .NET keeps stable across versions.
    public static float[] Normal(int seed, int count, double std = 1.0, double mean = 0.0)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Box–Muller; 1 − U keeps the logarithm finite.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            v[i] = (float)(mean + std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return v;
    }

    public static float[] Range(float from, float to, int count)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = count == 1 ? from : from + (to - from) * i / (count - 1);
        }

        return v;
    }

    public static float[] Fill(int count, float value) => Enumerable.Repeat(value, count).ToArray();

    public static float[] ToFloat(double[] v) => Array.ConvertAll(v, d => (float)d);

    /// <summary>A copy for the function under test, so the original can be checked afterwards.</summary>
    public static float[] Copy(float[] v) => (float[])v.Clone();

    /// <summary>Throws <see cref="InputModifiedException"/> when the function under test wrote into its copy.</summary>
    public static void Unchanged(string name, float[] original, float[] passed)
    {
        if (!System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(original).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(passed)))
        {
            throw new InputModifiedException(name);
        }
    }

    public static CaseOutput Out(string name, float[] values) => new(name, values);

    public static CaseOutput Out(string name, double[] values) => new(name, ToFloat(values));
}
