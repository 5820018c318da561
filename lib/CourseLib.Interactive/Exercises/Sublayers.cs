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
        float[] m = Normal(seed, c * c, 1.0 / Math.Sqrt(c));
        return v =>
        {
            ArgumentNullException.ThrowIfNull(v);
            if (v.Length != n * c)
            {
                throw new ArgumentException($"the sublayer expects [N, C] = [{n}, {c}] ({n * c} values), got {v.Length}.", nameof(v));
            }

            var y = new float[n * c];
            for (int r = 0; r < n; r++)
            {
                for (int j = 0; j < c; j++)
                {
                    double s = 0;
                    for (int k = 0; k < c; k++)
                    {
                        s += (double)v[r * c + k] * m[j * c + k];
                    }

                    y[r * c + j] = (float)(Math.Tanh(s) + 0.1);
                }
            }

            return y;
        };
    }
}
