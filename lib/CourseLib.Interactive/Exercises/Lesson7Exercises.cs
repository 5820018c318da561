using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 7.1 fused bias + exact GELU, the first half of an FFN after its matmul: y[r, j] = GELU(x[r, j] + b[j]),
/// x: [N, C], b: [C] broadcast over rows. Fusing saves one pass over memory (llm.c's gelu after matmul_forward).
/// 7.2 int8 weight quantization, per output channel and symmetric, for W: [rows = O, cols = I]:
/// scale_o = max_i |W[o, i]| / 127 (0 for an all-zero row), q[o, i] = clamp(round(W[o, i] / scale_o), −127, 127)
/// with round half to even, as the library's <c>Int8Linear.Quantize</c> and libtorch's round().
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

    public static ExerciseSpec<Func<float[], int, int, (sbyte[] Q, float[] Scales)>> QuantizeInt8 { get; } = new(
        "7.2", "int8 per-channel weight quantization", 1, "QuantizeInt8",
        "(sbyte[] q, float[] scales) QuantizeInt8(float[] w, int rows, int cols)",
        LibraryImplementations.QuantizeInt8,
        () =>
        [
            QuantCase("3 rows × 8 columns, rows of different sizes", false, 81, [1.0, 0.05, 3.0], 8),
            QuantCase("4 × 5", false, 82, [1.0, 1.0, 1.0, 1.0], 5, negativeExtremes: true),
            QuantCase("1 × 1: the weight itself becomes ±127", true, 83, [1.0], 1),
            QuantCase("odd shape 7 × 67, rows of different sizes", true, 84, [0.01, 0.1, 1, 10, 0.5, 2, 0.02], 67),
            QuantCase("an all-zero row: scale 0, levels 0", true, 85, [1.0, 0.0, 0.3, 1.0], 6),
            QuantCase("large weights (std 300)", true, 86, [300.0, 300.0, 300.0], 16),
            QuantCase("every row's largest weight is negative", true, 87, [1.0, 0.2, 5.0, 1.0, 1.0], 9, negativeExtremes: true),
        ],
        [
            new("global-scale", "Your levels match one scale for the whole matrix: per-output-channel means one scale per row o, scale_o = max_i |W[o, i]| / 127, so a row of small weights still uses the whole −127…127 range.",
                (w, rows, cols) => QuantModel(w, rows, cols, globalScale: true)),
            new("truncation", "Your levels look truncated toward zero ((sbyte)(w / scale) drops the fraction): round to the nearest level, Math.Round(w / scale).",
                (w, rows, cols) => QuantModel(w, rows, cols, truncate: true)),
            new("scale-over-columns", "Your scales look computed over columns: the output channel o is row o of W [O, I], so take the maximum over the row, max_i |W[o, i]|, and return one scale per row.",
                (w, rows, cols) => QuantModel(w, rows, cols, overColumns: true)),
            new("divide-by-128", "Your scales look like max|w| / 128: the symmetric int8 grid is −127…127, so scale = max|w| / 127 and the largest weight maps exactly to ±127.",
                (w, rows, cols) => QuantModel(w, rows, cols, divisor: 128)),
            new("divide-by-128-clamped", "Your scales look like max|w| / 128: the symmetric int8 grid is −127…127, so scale = max|w| / 127 and the largest weight maps exactly to ±127.",
                (w, rows, cols) => QuantModel(w, rows, cols, divisor: 128, clamp: true)),
            new("max-without-abs", "Your scale looks taken from the largest weight rather than the largest magnitude: use max_i |W[o, i]|, or a row whose extreme is negative overflows the grid.",
                (w, rows, cols) => QuantModel(w, rows, cols, signedMax: true)),
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

    /// <summary>
    /// The double-precision oracle of 7.2: the scale is the float max|w| / 127 a float implementation stores (float division is
    /// correctly rounded), each level is w / scale in double, rounded half to even and clamped to ±127.
    /// </summary>
    internal static (float[] Q, float[] Scales) QuantOracle(float[] w, int rows, int cols)
    {
        var q = new float[rows * cols];
        var scales = new float[rows];
        for (int o = 0; o < rows; o++)
        {
            float scale = RowMaxAbs(w, o, cols) / 127f;
            scales[o] = scale;
            for (int i = 0; i < cols; i++)
            {
                q[o * cols + i] = scale == 0 ? 0 : (float)Math.Clamp(Math.Round(w[o * cols + i] / (double)scale, MidpointRounding.ToEven), -127, 127);
            }
        }

        return (q, scales);
    }

    /// <summary>The typical wrong answers of 7.2, written as a learner would (a plain (sbyte) cast wraps out-of-range levels).</summary>
    private static (sbyte[] Q, float[] Scales) QuantModel(float[] w, int rows, int cols, bool globalScale = false, bool truncate = false,
        bool overColumns = false, double divisor = 127, bool clamp = false, bool signedMax = false)
    {
        float global = 0;
        for (int o = 0; o < rows; o++)
        {
            global = Math.Max(global, RowMaxAbs(w, o, cols));
        }

        var scales = new float[overColumns ? cols : rows];
        for (int k = 0; k < scales.Length; k++)
        {
            float max = 0;
            if (overColumns)
            {
                for (int o = 0; o < rows; o++)
                {
                    max = Math.Max(max, Math.Abs(w[o * cols + k]));
                }
            }
            else if (signedMax)
            {
                max = w[k * cols];
                for (int i = 1; i < cols; i++)
                {
                    max = Math.Max(max, w[k * cols + i]);
                }
            }
            else
            {
                max = globalScale ? global : RowMaxAbs(w, k, cols);
            }

            scales[k] = (float)(max / divisor);
        }

        var q = new sbyte[rows * cols];
        for (int o = 0; o < rows; o++)
        {
            for (int i = 0; i < cols; i++)
            {
                float scale = scales[overColumns ? i : o];
                // In float, as a learner's w[i] / scale is: truncation is sensitive to quotients just below an integer
                // (the row's largest weight gives 126.99999 or 127.00001), rounding only near ties, which the cases avoid.
                float v0 = scale == 0 ? 0 : w[o * cols + i] / scale;
                double v = truncate ? MathF.Truncate(v0) : Math.Round(v0, MidpointRounding.ToEven);
                if (clamp)
                {
                    v = Math.Clamp(v, -127, 127);
                }

                q[o * cols + i] = unchecked((sbyte)(int)v);
            }
        }

        return (q, scales);
    }

    private static float RowMaxAbs(float[] w, int row, int cols)
    {
        float max = 0;
        for (int i = 0; i < cols; i++)
        {
            max = Math.Max(max, Math.Abs(w[row * cols + i]));
        }

        return max;
    }

    private static ExerciseCase<Func<float[], int, int, (sbyte[] Q, float[] Scales)>> QuantCase(string name, bool hidden, int seed, double[] rowStd, int cols,
        bool negativeExtremes = false)
    {
        int rows = rowStd.Length;
        float[] w = Normal(seed, rows * cols);
        for (int o = 0; o < rows; o++)
        {
            int extreme = o * cols;
            for (int i = 0; i < cols; i++)
            {
                w[o * cols + i] *= (float)rowStd[o];
                if (Math.Abs(w[o * cols + i]) > Math.Abs(w[extreme]))
                {
                    extreme = o * cols + i;
                }
            }

            if (negativeExtremes && w[extreme] > 0)
            {
                for (int i = 0; i < cols; i++)
                {
                    w[o * cols + i] = -w[o * cols + i];
                }
            }
        }

        AvoidTies(w, rows, cols);
        return new(name, hidden,
            f =>
            {
                float[] wi = Copy(w);
                (sbyte[] q, float[] scales) = f(wi, rows, cols);
                Unchanged("w", w, wi);
                return [Out("q", q is null ? null! : Array.ConvertAll(q, v => (float)v)), Out("scales", scales)];
            },
            () =>
            {
                (float[] q, float[] scales) = QuantOracle(w, rows, cols);
                return [Out("q", q), Out("scales", scales)];
            },
            Tolerance.Forward);
    }

    /// <summary>
    /// Moves any weight whose level w/scale lies within 0.01 of a half-integer by 0.02 of a level, so that computing the
    /// quotient in float or double, or as w·(127/max), cannot round differently: the cases test the method, not ties.
    /// </summary>
    private static void AvoidTies(float[] w, int rows, int cols)
    {
        for (int o = 0; o < rows; o++)
        {
            float scale = RowMaxAbs(w, o, cols) / 127f;
            if (scale == 0)
            {
                continue;
            }

            for (int i = 0; i < cols; i++)
            {
                double level = Math.Abs(w[o * cols + i] / (double)scale);
                if (level < 126 && Math.Abs(level - Math.Floor(level) - 0.5) < 0.01)
                {
                    w[o * cols + i] += MathF.CopySign(0.02f * scale, w[o * cols + i]);
                }
            }
        }
    }
}
