using CourseLib.Kernels;
using CourseLib.Models;
using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 6.1 the Post-LN block of the original Transformer (Vaswani et al. 2017, §3.1), given its two sublayers:
/// h = LN₁(x + Attn(x)); y = LN₂(h + FFN(h)), each LayerNorm with its own γ, β.
/// 6.2 sampling the next token: p = softmax(z/τ) (largest logit subtracted first), then the smallest i with
/// u &lt; p_0 + … + p_i (the last token if rounding leaves u above the total).
/// </summary>
internal static class Lesson6Exercises
{
    // Token ids are exact: a sampled token is right or wrong.
    private static readonly Tolerance Exact = new(0, 0);

    public static ExerciseSpec<Func<float[], Func<float[], float[]>, Func<float[], float[]>, float[], float[], float[], float[], int, int, float, float[]>> PostLnBlock { get; } = new(
        "6.1", "Post-LN block forward", 2, "PostLnBlockForward",
        "float[] PostLnBlockForward(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn, float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps)",
        LibraryPostLnBlock,
        () =>
        [
            BlockCase("N=3, C=4", false, 601, 3, 4),
            BlockCase("N=4, C=6, inputs with mean 1.5", false, 602, 4, 6, offset: 1.5),
            BlockCase("N=1, C=1", true, 603, 1, 1),
            BlockCase("odd shape N=5, C=19", true, 604, 5, 19),
            BlockCase("rows with a large offset (mean 30)", true, 605, 3, 8, offset: 30),
            BlockCase("ε = 0.5", true, 606, 2, 7, eps: 0.5f),
        ],
        [
            new("pre-ln", "Your output matches the Pre-LN block, h = x + Attn(LN₁(x)), y = h + FFN(LN₂(h)). Post-LN normalises after each residual add: h = LN₁(x + Attn(x)), y = LN₂(h + FFN(h)).",
                (x, a, f, g1, b1, g2, b2, n, c, eps) => BlockOracle(x, a, f, g1, b1, g2, b2, n, c, eps, preLn: true)),
            new("norm-before-add", "Your output matches x + LN(Attn(x)): the norm comes after the add, on the sum, h = LN₁(x + Attn(x)).",
                (x, a, f, g1, b1, g2, b2, n, c, eps) => BlockOracle(x, a, f, g1, b1, g2, b2, n, c, eps, normBranch: true)),
            new("shared-norm", "Both norms look like they use gamma1/beta1: each LayerNorm has its own parameters, LN₂ uses gamma2 and beta2.",
                (x, a, f, g1, b1, g2, b2, n, c, eps) => BlockOracle(x, a, f, g1, b1, g1, b1, n, c, eps)),
            new("second-shortcut-from-x", "The second residual looks like it adds x: the FFN's shortcut carries h, the first sublayer's output, y = LN₂(h + FFN(h)).",
                (x, a, f, g1, b1, g2, b2, n, c, eps) => BlockOracle(x, a, f, g1, b1, g2, b2, n, c, eps, secondShortcutFromX: true)),
        ]);

    public static ExerciseSpec<Func<float[], float, double, int>> Sample { get; } = new(
        "6.2", "Sampling the next token", 2, "SampleToken",
        "int SampleToken(float[] logits, float temperature, double u)",
        LibrarySampleToken,
        () =>
        [
            SampleCase("V=5, τ = 1", false, [1.2f, -0.4f, 0.3f, 2.0f, 0.0f], 1f),
            SampleCase("V=6, τ = 0.5", false, [0.5f, 1.5f, -1f, 1.0f, 0.2f, -0.3f], 0.5f),
            SampleCase("logits near 1000 (τ = 1)", false, [1000f, 999f, 1001.5f, 998f], 1f),
            SampleCase("τ = 2 flattens", true, [2f, 0f, -1f, 1f, 3f], 2f),
            SampleCase("τ = 0.05: nearly greedy", true, [0.3f, 0.9f, 0.1f, 0.85f], 0.05f),
            SampleCase("V = 1", true, [3.5f], 0.7f),
            SampleCase("logits near −1000 (τ = 0.5)", true, [-1000f, -1001f, -999.5f], 0.5f),
            SampleCase("two equal largest logits", true, [1f, 4f, 4f, 0f], 1f),
            SampleCase("V = 65 random logits, τ = 0.8", true, Normal(607, 65, 2.0), 0.8f),
        ],
        [
            new("temperature-multiplied", "The temperature looks multiplied: divide the logits by it, p ∝ exp(z/τ), so τ < 1 sharpens the distribution.",
                (z, t, u) => SampleOracle(z, t, u, multiply: true)),
            new("no-max-subtraction", "Large logits overflow exp() (to ∞, and ∞/∞ is NaN): subtract the largest logit first, exp((z − max z)/τ); the probabilities do not change.",
                (z, t, u) => SampleOracle(z, t, u, noMaxSubtraction: true)),
            new("argmax", "Your function returns the most likely token whatever u is: that is greedy decoding. Sample: return the first token whose cumulative probability exceeds u.",
                (z, t, u) => SampleOracle(z, t, 0, argmax: true)),
            new("cdf-off-by-one", "Your tokens look one too high: add p_i to the running total before comparing, and return the first i with u < p_0 + … + p_i.",
                (z, t, u) => Math.Min(SampleOracle(z, t, u) + 1, z.Length - 1)),
            new("not-normalised", "The cumulative sum looks unnormalised: divide each exp by their sum so the probabilities add up to 1.",
                (z, t, u) => SampleOracle(z, t, u, unnormalised: true)),
        ]);

    /// <summary>The library's block: the LayerNorm kernel around the given sublayers, in Post-LN order.</summary>
    internal static float[] LibraryPostLnBlock(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn,
        float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps)
    {
        float[] Norm(float[] s, float[] g, float[] b)
        {
            var y = new float[n * c];
            LayerNorm.Forward(s, g, b, y, new float[n], new float[n], n, c, eps);
            return y;
        }

        float[] Add(float[] a, float[] b)
        {
            var s = new float[a.Length];
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = a[i] + b[i];
            }

            return s;
        }

        float[] h = Norm(Add(x, attention(x)), gamma1, beta1);
        return Norm(Add(h, ffn(h)), gamma2, beta2);
    }

    /// <summary>The library's sampler, <see cref="TokenSampler.Sample"/>.</summary>
    internal static int LibrarySampleToken(float[] logits, float temperature, double u) => TokenSampler.Sample(logits, temperature, u);

    internal static float[] BlockOracle(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn,
        float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps,
        bool preLn = false, bool normBranch = false, bool secondShortcutFromX = false)
    {
        float[] Ln(float[] v, float[] g, float[] b) => ToFloat(Lesson3Exercises.ForwardOracle(v, g, b, n, c, eps));
        float[] Add(float[] a, float[] b)
        {
            var s = new float[a.Length];
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = (float)((double)a[i] + b[i]);
            }

            return s;
        }

        if (preLn)
        {
            float[] hp = Add(x, attention(Ln(x, gamma1, beta1)));
            return Add(hp, ffn(Ln(hp, gamma2, beta2)));
        }

        if (normBranch)
        {
            float[] hb = Add(x, Ln(attention(x), gamma1, beta1));
            return Add(hb, Ln(ffn(hb), gamma2, beta2));
        }

        float[] h = Ln(Add(x, attention(x)), gamma1, beta1);
        return Ln(Add(secondShortcutFromX ? x : h, ffn(h)), gamma2, beta2);
    }

    /// <summary>Softmax at τ in double and the inverse CDF at u; the flags model the typical mistakes.</summary>
    internal static int SampleOracle(float[] z, float t, double u,
        bool multiply = false, bool noMaxSubtraction = false, bool argmax = false, bool unnormalised = false)
    {
        if (argmax)
        {
            int best = 0;
            for (int i = 1; i < z.Length; i++)
            {
                best = z[i] > z[best] ? i : best;
            }

            return best;
        }

        double max = noMaxSubtraction ? 0 : z.Max();
        double[] e = z.Select(v => Math.Exp(multiply ? (v - max) * t : (v - max) / t)).ToArray();
        double sum = unnormalised ? 1 : e.Sum();
        if (!double.IsFinite(sum) || sum == 0)
        {
            // exp overflowed (∞/∞) or underflowed (0/0): every probability is NaN, no comparison with u succeeds, and
            // the code falls through to its "rounding left u above the total" answer, the last token.
            return z.Length - 1;
        }

        double cdf = 0;
        for (int i = 0; i < z.Length; i++)
        {
            cdf += e[i] / sum;
            if (u < cdf)
            {
                return i;
            }
        }

        return z.Length - 1;
    }

    private static ExerciseCase<Func<float[], Func<float[], float[]>, Func<float[], float[]>, float[], float[], float[], float[], int, int, float, float[]>> BlockCase(
        string name, bool hidden, int seed, int n, int c, double offset = 0, float eps = 1e-5f)
    {
        float[] x = Normal(seed, n * c, 1.0, offset);
        float[] gamma1 = Normal(seed + 100, c, 0.3, 1.0), beta1 = Normal(seed + 200, c, 0.3);
        float[] gamma2 = Normal(seed + 300, c, 0.3, 1.0), beta2 = Normal(seed + 400, c, 0.3);
        Func<float[], float[]> attention = CausalMixing(seed + 500, n, c);
        Func<float[], float[]> ffn = Sublayers.Mixing(seed + 600, n, c);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x), g1 = Copy(gamma1), b1 = Copy(beta1), g2 = Copy(gamma2), b2 = Copy(beta2);
                float[] y = f(xi, attention, ffn, g1, b1, g2, b2, n, c, eps);
                Unchanged("x", x, xi);
                Unchanged("gamma1", gamma1, g1);
                Unchanged("beta1", beta1, b1);
                Unchanged("gamma2", gamma2, g2);
                Unchanged("beta2", beta2, b2);
                return [Out("y", y)];
            },
            () => [Out("y", BlockOracle(x, attention, ffn, gamma1, beta1, gamma2, beta2, n, c, eps))],
            Tolerance.Forward);
    }

    /// <summary>
    /// A stand-in for causal attention on [N, C]: row r mixes the mean of rows 0..r through a fixed matrix,
    /// F(v)[r, j] = tanh(Σₖ mean_{s≤r} v[s, k]·M[j, k]) − 0.2. Like attention it moves information between tokens,
    /// only forwards in time, so a block that feeds it the wrong rows gives visibly different results.
    /// </summary>
    internal static Func<float[], float[]> CausalMixing(int seed, int n, int c)
    {
        float[] m = Sublayers.MixingMatrix(seed, c);
        return v =>
        {
            ArgumentNullException.ThrowIfNull(v);
            if (v.Length != n * c)
            {
                throw new ArgumentException($"the attention sublayer expects [N, C] = [{n}, {c}] ({n * c} values), got {v.Length}.", nameof(v));
            }

            var y = new float[n * c];
            var prefix = new double[c];
            for (int r = 0; r < n; r++)
            {
                for (int k = 0; k < c; k++)
                {
                    prefix[k] += v[r * c + k];
                }

                for (int j = 0; j < c; j++)
                {
                    double s = 0;
                    for (int k = 0; k < c; k++)
                    {
                        s += prefix[k] / (r + 1) * m[j * c + k];
                    }

                    y[r * c + j] = (float)(Math.Tanh(s) - 0.2);
                }
            }

            return y;
        };
    }

    /// <summary>
    /// One case: the token for each of a fixed set of u values. The u values come from a grid and stay at least 1e-4
    /// away from every boundary of the true CDF, so a float implementation cannot land on the other side by rounding.
    /// </summary>
    private static ExerciseCase<Func<float[], float, double, int>> SampleCase(string name, bool hidden, float[] logits, float temperature)
    {
        double max = logits.Max();
        double[] e = logits.Select(z => Math.Exp((z - max) / temperature)).ToArray();
        double[] p = e.Select(v => v / e.Sum()).ToArray();
        var boundaries = new List<double>();
        double cdf = 0;
        foreach (double pi in p)
        {
            cdf += pi;
            boundaries.Add(cdf);
        }

        // 0 is always a safe u (the first token with probability above 1e-4 wins, in float and double alike) when the
        // first token is not vanishingly unlikely; the grid then covers [0, 1) and adds one value close to 1.
        var candidates = new List<double>();
        if (p[0] > 1e-4)
        {
            candidates.Add(0.0);
        }

        for (int k = 0; k < 24; k++)
        {
            candidates.Add((k + 0.37) / 24);
        }

        candidates.Add(0.9995);
        double[] us = candidates.Where(u => boundaries.All(b => Math.Abs(u - b) > 1e-4)).ToArray();
        return new(name, hidden,
            f =>
            {
                var tokens = new float[us.Length];
                for (int i = 0; i < us.Length; i++)
                {
                    float[] zi = Copy(logits);
                    tokens[i] = f(zi, temperature, us[i]);
                    Unchanged("logits", logits, zi);
                }

                return [Out("token(u)", tokens)];
            },
            () => [Out("token(u)", us.Select(u => (float)SampleOracle(logits, temperature, u)).ToArray())],
            Exact);
    }
}
