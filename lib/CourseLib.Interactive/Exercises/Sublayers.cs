using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// The sublayer F that residual exercises receive: F(v)[r, j] = tanh(Σₖ v[r, k]·M[j, k]) + 0.1, on [N, C].
/// It mixes features within a row, so using the wrong input (x instead of LN(x), say) changes the result
/// visibly, and it checks its input's length so a wrong buffer fails with a clear message.
/// </summary>
internal static class Sublayers
{
    public static Func<float[], float[]> Mixing(int seed, int n, int c)
    {
        float[] m = MixingMatrix(seed, c);
        return v =>
        {
            ArgumentNullException.ThrowIfNull(v);
            if (v.Length != n * c)
            {
                throw new ArgumentException($"the sublayer expects [N, C] = [{n}, {c}] ({n * c} values), got {v.Length}.", nameof(v));
            }

            return ToFloat(MixingInDouble(m, v, n, c));
        };
    }

    /// <summary>The matrix M of <see cref="Mixing"/> for this seed.</summary>
    public static float[] MixingMatrix(int seed, int c) => Normal(seed, c * c, 1.0 / Math.Sqrt(c));

    /// <summary>F(v) = tanh(v·Mᵀ) + 0.1 kept in double: Mixing rounds it to float, oracles and finite differences use it as is.</summary>
    public static double[] MixingInDouble(float[] m, float[] v, int n, int c)
    {
        var y = new double[n * c];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < c; j++)
            {
                double s = 0;
                for (int k = 0; k < c; k++)
                {
                    s += (double)v[r * c + k] * m[j * c + k];
                }

                y[r * c + j] = Math.Tanh(s) + 0.1;
            }
        }

        return y;
    }
}
