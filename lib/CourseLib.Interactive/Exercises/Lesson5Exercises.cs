using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 5.1 linear warm-up then cosine decay, as llm.c's train_gpt2 (step is 0-based):
/// step &lt; W: lr = max·(step + 1)/W; W ≤ step &lt; S: lr = min + ½(max − min)(1 + cos(π·(step − W)/(S − W)));
/// step ≥ S: lr = min.
/// 5.2 the Pre-LN sublayer: y = x + F(LN(x)) (Xiong et al. 2020; GPT-2).
/// </summary>
internal static class Lesson5Exercises
{
    // Learning rates are small (1e-4) and exact up to float rounding: a relative tolerance is what matters.
    private static readonly Tolerance ScheduleTolerance = new(1e-10, 1e-5);

    private const string DecaysToZero = "The cosine looks like it decays to 0: it decays from maxLr to minLr, lr = min + ½(max − min)(1 + cos(π·p)).";

    public static ExerciseSpec<Func<int, int, int, float, float, float>> Schedule { get; } = new(
        "5.1", "Linear warm-up + cosine schedule", 2, "LearningRate",
        "float LearningRate(int step, int warmupSteps, int totalSteps, float maxLr, float minLr)",
        LibraryImplementations.LearningRate,
        () =>
        [
            ScheduleCase("W=10, S=100, 6e-4 → 6e-5", false, 10, 100, 6e-4f, 6e-5f),
            ScheduleCase("W=5, S=20, 1 → 0.1", false, 5, 20, 1f, 0.1f),
            ScheduleCase("no warm-up: W=0, S=50", true, 0, 50, 1e-3f, 0f),
            ScheduleCase("W=1, S=2", true, 1, 2, 1f, 0.5f),
            ScheduleCase("W=3, S=7, min 0", true, 3, 7, 1f, 0f),
            ScheduleCase("W=S=20: warm-up only", true, 20, 20, 3e-4f, 3e-5f),
        ],
        [
            new("warmup-off-by-one", "Warm-up looks off by one: with 0-based steps, step 0 must already train, lr = max·(step + 1)/W, reaching max at step W − 1.",
                (s, w, t, max, min) => Lr(s, w, t, max, min, offByOne: true)),
            new("decays-to-zero", DecaysToZero, (s, w, t, max, min) => Lr(s, w, t, max, 0f)),
            // The same mistake in code that still returns minLr once the run is over.
            new("decays-to-zero-then-min", DecaysToZero, (s, w, t, max, min) => s >= t ? min : Lr(s, w, t, max, 0f)),
            new("cosine-over-whole-run", "The cosine looks measured from step 0: its progress starts after warm-up, p = (step − W)/(S − W).",
                (s, w, t, max, min) => Lr(s, w, t, max, min, wholeRun: true)),
            new("linear-decay", "The decay looks linear: after warm-up it follows half a cosine, min + ½(max − min)(1 + cos(π·p)).",
                (s, w, t, max, min) => Lr(s, w, t, max, min, linear: true)),
        ]);

    public static ExerciseSpec<Func<float[], float[], float[], Func<float[], float[]>, int, int, float, float[]>> PreLn { get; } = new(
        "5.2", "Pre-LN sublayer forward", 2, "PreLnSublayerForward",
        "float[] PreLnSublayerForward(float[] x, float[] gamma, float[] beta, Func<float[], float[]> sublayer, int n, int c, float eps)",
        LibraryImplementations.PreLnSublayerForward,
        () =>
        [
            PreLnCase("N=2, C=6", false, 61, 2, 6),
            PreLnCase("N=3, C=4, inputs with mean 2", false, 62, 3, 4, offset: 2),
            PreLnCase("N=1, C=1", true, 63, 1, 1),
            PreLnCase("odd shape N=5, C=19", true, 64, 5, 19),
            PreLnCase("rows with a large offset (mean 30)", true, 65, 3, 8, offset: 30),
        ],
        [
            new("post-ln", "Your output matches Post-LN, LN(x + F(x)). Pre-LN normalises the sublayer's input and leaves the residual stream alone: y = x + F(LN(x)).",
                (x, g, b, f, n, c, eps) => PreLnOracle(x, g, b, f, n, c, eps, postLn: true)),
            new("residual-from-normalised", "Your output matches LN(x) + F(LN(x)): the shortcut carries the raw x, y = x + F(LN(x)).",
                (x, g, b, f, n, c, eps) => PreLnOracle(x, g, b, f, n, c, eps, residualFromNormalised: true)),
            new("no-residual", "Your output matches F(LN(x)) alone: add the input back, y = x + F(LN(x)).",
                (x, g, b, f, n, c, eps) => PreLnOracle(x, g, b, f, n, c, eps, noResidual: true)),
            new("no-layernorm", "Your output matches x + F(x): normalise first, y = x + F(LN(x)).",
                (x, g, b, f, n, c, eps) => PreLnOracle(x, g, b, f, n, c, eps, noLayerNorm: true)),
        ]);

    internal static float Lr(int step, int warmup, int total, float maxLr, float minLr, bool offByOne = false, bool wholeRun = false, bool linear = false)
    {
        if (step < warmup)
        {
            return (float)((double)maxLr * (offByOne ? step : step + 1) / warmup);
        }

        if (step >= total)
        {
            return minLr;
        }

        double p = wholeRun ? (double)step / total : (double)(step - warmup) / (total - warmup);
        double coeff = linear ? 1 - p : 0.5 * (1 + Math.Cos(Math.PI * p));
        return (float)(minLr + coeff * ((double)maxLr - minLr));
    }

    private static ExerciseCase<Func<int, int, int, float, float, float>> ScheduleCase(string name, bool hidden, int warmup, int total, float maxLr, float minLr)
    {
        int steps = total + 3;
        return new(name, hidden,
            f =>
            {
                var lr = new float[steps];
                for (int s = 0; s < steps; s++)
                {
                    lr[s] = f(s, warmup, total, maxLr, minLr);
                }

                return [Out("lr[step]", lr)];
            },
            () => [Out("lr[step]", Enumerable.Range(0, steps).Select(s => Lr(s, warmup, total, maxLr, minLr)).ToArray())],
            ScheduleTolerance);
    }

    private static ExerciseCase<Func<float[], float[], float[], Func<float[], float[]>, int, int, float, float[]>> PreLnCase(
        string name, bool hidden, int seed, int n, int c, double offset = 0)
    {
        const float eps = 1e-5f;
        float[] x = Normal(seed, n * c, 1.0, offset);
        float[] gamma = Normal(seed + 100, c, 0.3, 1.0);
        float[] beta = Normal(seed + 200, c, 0.3);
        Func<float[], float[]> sublayer = Sublayers.Mixing(seed + 300, n, c);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x), gi = Copy(gamma), bi = Copy(beta);
                float[] y = f(xi, gi, bi, sublayer, n, c, eps);
                Unchanged("x", x, xi);
                Unchanged("gamma", gamma, gi);
                Unchanged("beta", beta, bi);
                return [Out("y", y)];
            },
            () => [Out("y", PreLnOracle(x, gamma, beta, sublayer, n, c, eps))],
            Tolerance.Forward);
    }

    internal static float[] PreLnOracle(float[] x, float[] gamma, float[] beta, Func<float[], float[]> f, int n, int c, float eps,
        bool postLn = false, bool residualFromNormalised = false, bool noResidual = false, bool noLayerNorm = false)
    {
        if (postLn)
        {
            float[] fx = f(x);
            float[] sum = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                sum[i] = x[i] + fx[i];
            }

            return ToFloat(Lesson3Exercises.ForwardOracle(sum, gamma, beta, n, c, eps));
        }

        float[] normed = noLayerNorm ? x : ToFloat(Lesson3Exercises.ForwardOracle(x, gamma, beta, n, c, eps));
        float[] branch = f(normed);
        float[] shortcut = residualFromNormalised ? normed : x;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = noResidual ? branch[i] : shortcut[i] + branch[i];
        }

        return y;
    }
}
