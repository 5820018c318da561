using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 1.1 FFN forward: x[T, C] → ReLU(x·W₁ᵀ + b₁)[T, 4C] → ·W₂ᵀ + b₂ → y[T, C].
/// Weights use the library's (PyTorch nn.Linear) layout: W₁ is [4C, C], W₂ is [C, 4C].
/// </summary>
internal static class Lesson1Exercises
{
    public const string FfnSignature = "float[] FfnForward(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)";

    public static ExerciseSpec<Func<float[], float[], float[], float[], float[], int, int, float[]>> Ffn { get; } = new(
        "1.1", "FFN forward (ReLU MLP)", 2, "FfnForward", FfnSignature,
        LibraryImplementations.FfnForward,
        () =>
        [
            Case("T=2, C=4", false, 11, 2, 4),
            Case("T=3, C=8", false, 12, 3, 8),
            Case("T=1, C=1", true, 13, 1, 1),
            Case("odd shape T=5, C=3", true, 14, 5, 3),
            Case("T=7, C=16, larger weights", true, 15, 7, 16, weightStd: 1.0),
            Case("zero input: only the biases flow", true, 16, 3, 5, zeroInput: true),
        ],
        [
            new("relu-after-w2", "The output looks like ReLU was also applied after W₂. The FFN applies the activation once, to the 4C-wide hidden layer only: y = ReLU(x·W₁ᵀ + b₁)·W₂ᵀ + b₂.",
                (x, w1, b1, w2, b2, t, c) => ToFloat(Oracle(x, w1, b1, w2, b2, t, c, reluOnOutput: true))),
            new("no-activation", "The output matches a purely linear network: apply ReLU (max(0, h)) to the hidden layer h = x·W₁ᵀ + b₁ before multiplying by W₂.",
                (x, w1, b1, w2, b2, t, c) => ToFloat(Oracle(x, w1, b1, w2, b2, t, c, noActivation: true))),
            new("weights-as-in-out", "The output matches weights read as [in, out]. The library stores nn.Linear weights as [out, in]: W₁[j, i] is at w1[j·C + i], and h[t, j] = Σᵢ x[t, i]·W₁[j, i].",
                (x, w1, b1, w2, b2, t, c) => ToFloat(Oracle(x, w1, b1, w2, b2, t, c, transposed: true))),
            new("no-bias", "The output matches an FFN without biases: add b₁ to the hidden layer (before ReLU) and b₂ to the output.",
                (x, w1, b1, w2, b2, t, c) => ToFloat(Oracle(x, w1, b1, w2, b2, t, c, noBias: true))),
        ]);

    private static ExerciseCase<Func<float[], float[], float[], float[], float[], int, int, float[]>> Case(
        string name, bool hidden, int seed, int t, int c, double weightStd = 0.5, bool zeroInput = false)
    {
        int h = 4 * c;
        float[] x = zeroInput ? new float[t * c] : Normal(seed, t * c);
        float[] w1 = Normal(seed + 100, h * c, weightStd);
        float[] b1 = Normal(seed + 200, h, 0.5);
        float[] w2 = Normal(seed + 300, c * h, weightStd);
        float[] b2 = Normal(seed + 400, c, 0.5);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x), w1i = Copy(w1), b1i = Copy(b1), w2i = Copy(w2), b2i = Copy(b2);
                float[] y = f(xi, w1i, b1i, w2i, b2i, t, c);
                Unchanged("x", x, xi);
                Unchanged("w1", w1, w1i);
                Unchanged("b1", b1, b1i);
                Unchanged("w2", w2, w2i);
                Unchanged("b2", b2, b2i);
                return [Out("y", y)];
            },
            () => [Out("y", Oracle(x, w1, b1, w2, b2, t, c))],
            Tolerance.Forward);
    }

    /// <summary>The FFN in double; the flags build the typical mistakes from the same loops.</summary>
    internal static double[] Oracle(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c,
        bool reluOnOutput = false, bool noActivation = false, bool transposed = false, bool noBias = false)
    {
        int hd = 4 * c;
        var hidden = new double[hd];
        var y = new double[t * c];
        for (int r = 0; r < t; r++)
        {
            for (int j = 0; j < hd; j++)
            {
                double s = noBias ? 0 : b1[j];
                for (int i = 0; i < c; i++)
                {
                    s += (double)x[r * c + i] * (transposed ? w1[i * hd + j] : w1[j * c + i]);
                }

                hidden[j] = noActivation ? s : Math.Max(0, s);
            }

            for (int o = 0; o < c; o++)
            {
                double s = noBias ? 0 : b2[o];
                for (int j = 0; j < hd; j++)
                {
                    s += hidden[j] * (transposed ? w2[j * c + o] : w2[o * hd + j]);
                }

                y[r * c + o] = reluOnOutput ? Math.Max(0, s) : s;
            }
        }

        return y;
    }
}
