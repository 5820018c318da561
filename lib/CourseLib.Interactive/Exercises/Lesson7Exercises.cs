using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 7.1 fused bias + exact GELU, the first half of an FFN after its matmul: y[r, j] = GELU(x[r, j] + b[j]),
/// x: [N, C], b: [C] broadcast over rows. Fusing saves one pass over memory (llm.c's gelu after matmul_forward).
/// </summary>
internal static class Lesson7Exercises
{
    public static ExerciseSpec<Func<float[], float[], int, int, float[]>> BiasGelu { get; } = new(
        "7.1", "Fused bias + GELU forward", 1, "BiasGeluForward",
        "float[] BiasGeluForward(float[] x, float[] bias, int n, int c)",
        LibraryImplementations.BiasGeluForward,
        () =>
        [
            Case("N=2, C=5", false, 71, 2, 5),
            Case("N=3, C=4", false, 72, 3, 4),
            Case("N=1, C=1", true, 73, 1, 1),
            Case("odd shape N=7, C=67", true, 74, 7, 67),
            Case("large values (std 6)", true, 75, 4, 9, std: 6),
        ],
        [
            new("bias-after-gelu", "The bias looks added after the activation: the fused op is GELU(x + b), the bias belongs inside.",
                (x, b, n, c) => Oracle(x, b, n, c, biasAfter: true)),
            new("bias-ignored", "Your output matches GELU(x): add the bias b[j] of each column before the activation.",
                (x, b, n, c) => Oracle(x, new float[c], n, c)),
            new("bias-by-row", "The bias looks indexed by row: b has one value per column (feature), b[j] for element [r, j] at r·C + j.",
                (x, b, n, c) => Oracle(x, b, n, c, biasByRow: true)),
            new("tanh-form", "Your values match the tanh approximation of GELU: use the exact form ½v(1 + erf(v/√2)).",
                (x, b, n, c) => Oracle(x, b, n, c, tanh: true)),
        ]);

    internal static float[] Oracle(float[] x, float[] b, int n, int c, bool biasAfter = false, bool biasByRow = false, bool tanh = false)
    {
        var y = new float[n * c];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < c; j++)
            {
                double bias = biasByRow ? b[r % c] : b[j];
                double v = biasAfter ? x[r * c + j] : x[r * c + j] + bias;
                double g = tanh ? ExerciseMath.GeluTanh(v) : ExerciseMath.Gelu(v);
                y[r * c + j] = (float)(biasAfter ? g + bias : g);
            }
        }

        return y;
    }

    private static ExerciseCase<Func<float[], float[], int, int, float[]>> Case(string name, bool hidden, int seed, int n, int c, double std = 1.5)
    {
        float[] x = Normal(seed, n * c, std);
        float[] bias = Normal(seed + 100, c, 0.5);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x), bi = Copy(bias);
                float[] y = f(xi, bi, n, c);
                Unchanged("x", x, xi);
                Unchanged("bias", bias, bi);
                return [Out("y", y)];
            },
            () => [Out("y", Oracle(x, bias, n, c))],
            Tolerance.Forward);
    }
}
