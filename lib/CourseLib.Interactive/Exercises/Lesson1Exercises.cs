using CourseLib.Checks;
using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 1.1 FFN forward: x[T, C] → ReLU(x·W₁ᵀ + b₁)[T, 4C] → ·W₂ᵀ + b₂ → y[T, C].
/// 1.2 its backward pass: with h = x·W₁ᵀ + b₁, a = ReLU(h) and dy = ∂L/∂y,
/// dW₂ = dyᵀ·a, db₂ = Σ_rows dy, da = dy·W₂, dh = da ⊙ [h &gt; 0], dW₁ = dhᵀ·x, db₁ = Σ_rows dh, dx = dh·W₁.
/// Weights use the library's (PyTorch nn.Linear) layout: W₁ is [4C, C], W₂ is [C, 4C]; their gradients too.
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

    private const string DbNotSummedHint =
        "db₁ and db₂ look like one row's gradient only. Every row (token) uses the same bias, so its gradient is the sum over the rows: db₂[o] = Σₜ dy[t, o], db₁[j] = Σₜ dh[t, j] (accumulate with +=, don't overwrite).";

    public const string FfnBackwardSignature =
        "(float[] dx, float[] dw1, float[] db1, float[] dw2, float[] db2) FfnBackward(float[] dy, float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)";

    public static ExerciseSpec<Func<float[], float[], float[], float[], float[], float[], int, int, (float[] Dx, float[] DW1, float[] DB1, float[] DW2, float[] DB2)>> FfnBackward { get; } = new(
        "1.2", "FFN backward (dx, dW₁, db₁, dW₂, db₂)", 3, "FfnBackward", FfnBackwardSignature,
        LibraryImplementations.FfnBackward,
        () =>
        [
            BwdCase("T=2, C=3", false, 51, 2, 3),
            BwdCase("T=3, C=4", false, 52, 3, 4),
            BwdCase("T=1, C=1", true, 53, 1, 1),
            BwdCase("odd shape T=5, C=7", true, 54, 5, 7),
            BwdCase("T=6, C=16, larger weights", true, 55, 6, 16, weightStd: 1.0),
            BwdCase("every hidden unit inactive (b₁ = −50): no gradient reaches W₁, b₁ or x", true, 56, 3, 4, b1Offset: -50),
            FiniteDifferenceCase(),
        ],
        [
            new("no-relu-mask", "The gradients look computed without ReLU's mask: ReLU passes gradient only where its input was positive, so dh = da ⊙ [h > 0] with h = x·W₁ᵀ + b₁, before dW₁, db₁ and dx.",
                (dy, x, w1, b1, w2, b2, t, c) => BackwardOracle(dy, x, w1, b1, w2, t, c, noMask: true)),
            new("dw-transposed", "dW₁ and dW₂ look transposed. A weight's gradient has the weight's own shape: dW₁ is [4C, C] like w1, dW₁[j, i] = Σₜ dh[t, j]·x[t, i] at dw1[j·C + i] (and dW₂[o, j] = Σₜ dy[t, o]·a[t, j] at dw2[o·4C + j]).",
                (dy, x, w1, b1, w2, b2, t, c) => BackwardOracle(dy, x, w1, b1, w2, t, c, transposedWeights: true)),
            new("db-not-summed", DbNotSummedHint,
                (dy, x, w1, b1, w2, b2, t, c) => BackwardOracle(dy, x, w1, b1, w2, t, c, biasLastRow: true)),
            // Same mistake written with `continue` for inactive units: their db₁ keeps the last row where they were active.
            new("db-not-summed-skipping", DbNotSummedHint,
                (dy, x, w1, b1, w2, b2, t, c) => BackwardOracle(dy, x, w1, b1, w2, t, c, biasLastRow: true, skipInactive: true)),
            new("db-averaged", "db₁ and db₂ look averaged over the rows. The loss L = Σ dy ⊙ y adds the rows' contributions, so the bias gradients are sums: db₂[o] = Σₜ dy[t, o], db₁[j] = Σₜ dh[t, j].",
                (dy, x, w1, b1, w2, b2, t, c) => BackwardOracle(dy, x, w1, b1, w2, t, c, biasAveraged: true)),
        ]);

    private static ExerciseCase<Func<float[], float[], float[], float[], float[], float[], int, int, (float[], float[], float[], float[], float[])>> BwdCase(
        string name, bool hidden, int seed, int t, int c, double weightStd = 0.5, double b1Offset = 0)
    {
        int h = 4 * c;
        float[] dy = Normal(seed, t * c);
        float[] x = Normal(seed + 100, t * c);
        float[] w1 = Normal(seed + 200, h * c, weightStd);
        float[] b1 = Normal(seed + 300, h, 0.5, b1Offset);
        float[] w2 = Normal(seed + 400, c * h, weightStd);
        float[] b2 = Normal(seed + 500, c, 0.5);
        return new(name, hidden, f => CallBackward(f, dy, x, w1, b1, w2, b2, t, c),
            () => Outputs(BackwardOracle(dy, x, w1, b1, w2, t, c)), Tolerance.Backward);
    }

    // Independent of the derivation: the slopes of L = Σ dy ⊙ FFN(x) measured by central differences of the forward oracle.
    private static ExerciseCase<Func<float[], float[], float[], float[], float[], float[], int, int, (float[], float[], float[], float[], float[])>> FiniteDifferenceCase()
    {
        const int t = 3, c = 2, h = 4 * c;
        float[] dy = Normal(57, t * c);
        float[] x = Normal(58, t * c);
        float[] w1 = Normal(59, h * c, 0.5);
        float[] b1 = Normal(60, h, 0.5);
        float[] w2 = Normal(61, c * h, 0.5);
        float[] b2 = Normal(62, c, 0.5);
        return new("finite differences of the forward pass (GradientChecker)", true, f => CallBackward(f, dy, x, w1, b1, w2, b2, t, c),
            () =>
            {
                float[] xp = Copy(x), w1p = Copy(w1), b1p = Copy(b1), w2p = Copy(w2), b2p = Copy(b2);
                double Loss()
                {
                    double[] y = Oracle(xp, w1p, b1p, w2p, b2p, t, c);
                    double s = 0;
                    for (int i = 0; i < y.Length; i++)
                    {
                        s += dy[i] * y[i];
                    }

                    return s;
                }

                return [Out("dx", GradientChecker.Numerical(xp, Loss)), Out("dw1", GradientChecker.Numerical(w1p, Loss)), Out("db1", GradientChecker.Numerical(b1p, Loss)),
                    Out("dw2", GradientChecker.Numerical(w2p, Loss)), Out("db2", GradientChecker.Numerical(b2p, Loss))];
            },
            Tolerance.Backward);
    }

    private static CaseOutput[] CallBackward(Func<float[], float[], float[], float[], float[], float[], int, int, (float[], float[], float[], float[], float[])> f,
        float[] dy, float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)
    {
        float[] dyi = Copy(dy), xi = Copy(x), w1i = Copy(w1), b1i = Copy(b1), w2i = Copy(w2), b2i = Copy(b2);
        var g = f(dyi, xi, w1i, b1i, w2i, b2i, t, c);
        Unchanged("dy", dy, dyi);
        Unchanged("x", x, xi);
        Unchanged("w1", w1, w1i);
        Unchanged("b1", b1, b1i);
        Unchanged("w2", w2, w2i);
        Unchanged("b2", b2, b2i);
        return Outputs(g);
    }

    private static CaseOutput[] Outputs((float[] Dx, float[] DW1, float[] DB1, float[] DW2, float[] DB2) g) =>
        [Out("dx", g.Dx), Out("dw1", g.DW1), Out("db1", g.DB1), Out("dw2", g.DW2), Out("db2", g.DB2)];

    /// <summary>The FFN's backward pass in double; the flags build the typical mistakes from the same loops.</summary>
    internal static (float[] Dx, float[] DW1, float[] DB1, float[] DW2, float[] DB2) BackwardOracle(
        float[] dy, float[] x, float[] w1, float[] b1, float[] w2, int t, int c,
        bool noMask = false, bool transposedWeights = false, bool biasLastRow = false, bool biasAveraged = false, bool skipInactive = false)
    {
        int hd = 4 * c;
        var dx = new double[t * c];
        var dw1 = new double[hd * c];
        var db1 = new double[hd];
        var dw2 = new double[c * hd];
        var db2 = new double[c];
        var pre = new double[hd];
        var dh = new double[hd];
        for (int r = 0; r < t; r++)
        {
            for (int j = 0; j < hd; j++)
            {
                double s = b1[j];
                for (int i = 0; i < c; i++)
                {
                    s += (double)x[r * c + i] * w1[j * c + i];
                }

                pre[j] = s;
            }

            for (int o = 0; o < c; o++)
            {
                double g = dy[r * c + o];
                db2[o] = biasLastRow ? g : db2[o] + g;
                for (int j = 0; j < hd; j++)
                {
                    dw2[o * hd + j] += g * Math.Max(0, pre[j]);
                }
            }

            for (int j = 0; j < hd; j++)
            {
                double da = 0;
                for (int o = 0; o < c; o++)
                {
                    da += dy[r * c + o] * (double)w2[o * hd + j];
                }

                dh[j] = noMask || pre[j] > 0 ? da : 0;
                if (!(skipInactive && pre[j] <= 0))
                {
                    db1[j] = biasLastRow ? dh[j] : db1[j] + dh[j];
                }

                for (int i = 0; i < c; i++)
                {
                    dw1[j * c + i] += dh[j] * x[r * c + i];
                    dx[r * c + i] += dh[j] * w1[j * c + i];
                }
            }
        }

        if (biasAveraged)
        {
            for (int j = 0; j < hd; j++)
            {
                db1[j] /= t;
            }

            for (int o = 0; o < c; o++)
            {
                db2[o] /= t;
            }
        }

        if (transposedWeights)
        {
            dw1 = Transpose(dw1, hd, c);
            dw2 = Transpose(dw2, c, hd);
        }

        return (ToFloat(dx), ToFloat(dw1), ToFloat(db1), ToFloat(dw2), ToFloat(db2));
    }

    private static double[] Transpose(double[] a, int rows, int cols)
    {
        var r = new double[a.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                r[j * rows + i] = a[i * cols + j];
            }
        }

        return r;
    }

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
