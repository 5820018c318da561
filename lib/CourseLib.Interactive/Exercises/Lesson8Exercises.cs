using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 8.1 top-k routing of a mixture-of-experts layer, as <see cref="CourseLib.Layers.MoeFeedForward"/> routes:
/// p = softmax over all E router logits of a token; its k most probable experts, highest first, ties to the lower
/// index; each gate is that expert's p (not renormalised over the k chosen). logits: [N, E]; experts, gates: [N, k].
/// 8.2 the Switch Transformer's load-balancing loss (Fedus et al. 2021, eq. 4): α·E·Σ_e f_e·P_e, f_e = share of the
/// N·k assignments that went to e, P_e = mean router probability of e; k = assignment.Length / N.
/// </summary>
internal static class Lesson8Exercises
{
    public static ExerciseSpec<Func<float[], int, int, int, (int[] Experts, float[] Gates)>> TopK { get; } = new(
        "8.1", "Top-k routing", 2, "TopKRouting",
        "(int[] experts, float[] gates) TopKRouting(float[] logits, int n, int e, int k)",
        LibraryImplementations.TopKRouting,
        () =>
        [
            RoutingCase("N=4, E=4, k=1", false, RandomLogits(81, 4, 4), 4, 4, 1),
            RoutingCase("N=3, E=5, k=2, one row of ties", false, WithTieRow(RandomLogits(82, 3, 5), 5, 1), 3, 5, 2),
            RoutingCase("N=1, E=1, k=1", true, [0.7f], 1, 1, 1),
            RoutingCase("k = E = 3: every expert", true, RandomLogits(83, 2, 3), 2, 3, 3),
            RoutingCase("large logits (std 25)", true, RandomLogits(84, 3, 8, std: 25), 3, 8, 2),
            RoutingCase("odd shape N=17, E=7, k=3", true, RandomLogits(85, 17, 7), 17, 7, 3),
            RoutingCase("all logits equal, k=2", true, Fill(4 * 6, 1.5f), 4, 6, 2),
        ],
        [
            new("renormalised", "Your gates sum to 1 over the k chosen experts (softmax over the top-k logits only, as Mixtral does). Here, as in the library's MoeFeedForward and the Switch Transformer, the softmax runs over all E logits and each chosen expert keeps its probability p_e.",
                (l, n, e, k) => RoutingOracle(l, n, e, k, renormalise: true)),
            new("logits-as-gates", "Your gates look like the raw logits: apply the softmax over the E logits of the token first, and use the chosen experts' probabilities as gates.",
                (l, n, e, k) => RoutingOracle(l, n, e, k, rawGates: true)),
            new("lowest", "You picked the least probable experts: take the k largest probabilities.",
                (l, n, e, k) => RoutingOracle(l, n, e, k, lowest: true)),
            new("index-order", "The right experts, listed in index order: list each token's experts from the highest probability down.",
                (l, n, e, k) => RoutingOracle(l, n, e, k, indexOrder: true)),
            new("ties-to-higher", "Ties look broken towards the higher expert index: on equal probabilities keep the lower index (compare with >, not ≥).",
                (l, n, e, k) => RoutingOracle(l, n, e, k, tiesToHigher: true)),
        ]);

    public static ExerciseSpec<Func<float[], int[], int, int, float, float>> LoadBalancing { get; } = new(
        "8.2", "Switch load-balancing loss", 2, "LoadBalancingLoss",
        "float LoadBalancingLoss(float[] probs, int[] assignment, int n, int e, float alpha)",
        LibraryImplementations.LoadBalancingLoss,
        () =>
        [
            BalanceCase("N=8, E=4, k=1", false, 86, 8, 4, 1, 0.01f),
            BalanceCase("N=6, E=3, k=2, α = 1", false, 87, 6, 3, 2, 1f),
            BalanceCase("uniform routing: exactly α", true, -1, 12, 4, 1, 0.5f),
            BalanceCase("collapsed: all to expert 0", true, -2, 10, 5, 1, 1f),
            BalanceCase("N=1, E=1", true, 88, 1, 1, 1, 0.1f),
            BalanceCase("odd shape N=37, E=7, k=3", true, 89, 37, 7, 3, 0.01f),
            BalanceCase("sharp router (logits std 5), k=2", true, 90, 20, 6, 2, 0.2f, std: 5),
        ],
        [
            new("missing-e", "Your loss is α·Σ f·P, E times too small: the Switch loss is α·E·Σ_e f_e·P_e, so that uniform routing gives exactly α.",
                (p, a, n, e, alpha) => (float)BalanceOracle(p, a, n, e, alpha, missingE: true)),
            new("probabilities-twice", "Your loss uses the mean probability P_e for both factors: f_e is the fraction of assignments (a count over the chosen experts), P_e the mean router probability.",
                (p, a, n, e, alpha) => (float)BalanceOracle(p, a, n, e, alpha, probabilitiesTwice: true)),
            new("fractions-twice", "Your loss uses the assignment fraction f_e for both factors: P_e is the mean router probability of expert e, the differentiable part.",
                (p, a, n, e, alpha) => (float)BalanceOracle(p, a, n, e, alpha, fractionsTwice: true)),
            new("per-token-not-per-assignment", "Your fractions look divided by N: with k experts per token there are N·k assignments, f_e = count_e/(N·k), so the f_e sum to 1.",
                (p, a, n, e, alpha) => (float)BalanceOracle(p, a, n, e, alpha, perToken: true)),
            new("missing-alpha", "Your loss is not multiplied by α.",
                (p, a, n, e, alpha) => (float)BalanceOracle(p, a, n, e, 1f)),
        ]);

    private static float[] RandomLogits(int seed, int n, int e, double std = 2) => Normal(seed, n * e, std);

    private static float[] WithTieRow(float[] logits, int e, int row)
    {
        for (int j = 0; j < e; j++)
        {
            logits[row * e + j] = j % 2 == 0 ? 0.5f : 2f; // experts 1 and 3 tie for first place
        }

        // And a row whose most probable expert has the higher index, so index order and probability order differ.
        int other = (row + 1) % (logits.Length / e);
        for (int j = 0; j < e; j++)
        {
            logits[other * e + j] = j == e - 2 ? 2f : j == 1 ? 1f : -0.5f * j;
        }

        return logits;
    }

    internal static double[] SoftmaxRow(float[] logits, int r, int e)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < e; j++)
        {
            max = Math.Max(max, logits[r * e + j]);
        }

        var p = new double[e];
        double sum = 0;
        for (int j = 0; j < e; j++)
        {
            p[j] = Math.Exp(logits[r * e + j] - max);
            sum += p[j];
        }

        for (int j = 0; j < e; j++)
        {
            p[j] /= sum;
        }

        return p;
    }

    internal static (int[] Experts, float[] Gates) RoutingOracle(float[] logits, int n, int e, int k,
        bool renormalise = false, bool rawGates = false, bool lowest = false, bool indexOrder = false, bool tiesToHigher = false)
    {
        var experts = new int[n * k];
        var gates = new float[n * k];
        for (int r = 0; r < n; r++)
        {
            double[] p = SoftmaxRow(logits, r, e);
            // Rank by probability (desc, or asc for the mistake); ties by index (asc, or desc for the mistake).
            int[] ranked = Enumerable.Range(0, e)
                .OrderBy(j => lowest ? p[j] : -p[j])
                .ThenBy(j => tiesToHigher ? -j : j)
                .Take(k).ToArray();
            if (indexOrder)
            {
                Array.Sort(ranked);
            }

            double chosen = ranked.Sum(j => p[j]);
            for (int s = 0; s < k; s++)
            {
                int j = ranked[s];
                experts[r * k + s] = j;
                gates[r * k + s] = (float)(rawGates ? logits[r * e + j] : renormalise ? p[j] / chosen : p[j]);
            }
        }

        return (experts, gates);
    }

    private static ExerciseCase<Func<float[], int, int, int, (int[] Experts, float[] Gates)>> RoutingCase(
        string name, bool hidden, float[] logits, int n, int e, int k) =>
        new(name, hidden,
            f =>
            {
                float[] li = Copy(logits);
                (int[] experts, float[] gates) = f(li, n, e, k);
                Unchanged("logits", logits, li);
                return [Out("experts", experts is null ? null! : Array.ConvertAll(experts, v => (float)v)), Out("gates", gates)];
            },
            () =>
            {
                (int[] experts, float[] gates) = RoutingOracle(logits, n, e, k);
                return [Out("experts", Array.ConvertAll(experts, v => (float)v)), Out("gates", gates)];
            },
            Tolerance.Forward);

    internal static double BalanceOracle(float[] probs, int[] assignment, int n, int e, float alpha,
        bool missingE = false, bool probabilitiesTwice = false, bool fractionsTwice = false, bool perToken = false)
    {
        int k = assignment.Length / n;
        var f = new double[e];
        foreach (int a in assignment)
        {
            f[a] += 1.0 / (perToken ? n : (double)n * k);
        }

        var meanP = new double[e];
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < e; j++)
            {
                meanP[j] += (double)probs[r * e + j] / n;
            }
        }

        double s = 0;
        for (int j = 0; j < e; j++)
        {
            s += (probabilitiesTwice ? meanP[j] : f[j]) * (fractionsTwice ? f[j] : meanP[j]);
        }

        return alpha * (missingE ? 1 : e) * s;
    }

    private static ExerciseCase<Func<float[], int[], int, int, float, float>> BalanceCase(
        string name, bool hidden, int seed, int n, int e, int k, float alpha, double std = 1.5)
    {
        float[] probs;
        int[] assignment;
        if (seed == -1)
        {
            // Uniform: every probability 1/E and the assignments spread evenly (N a multiple of E).
            probs = Fill(n * e, 1f / e);
            assignment = Enumerable.Range(0, n * k).Select(i => i % e).ToArray();
        }
        else if (seed == -2)
        {
            probs = Enumerable.Range(0, n * e).Select(i => i % e == 0 ? 1f : 0f).ToArray();
            assignment = new int[n * k];
        }
        else
        {
            float[] logits = Normal(seed, n * e, std);
            probs = new float[n * e];
            for (int r = 0; r < n; r++)
            {
                double[] p = SoftmaxRow(logits, r, e);
                for (int j = 0; j < e; j++)
                {
                    probs[r * e + j] = (float)p[j];
                }
            }

            assignment = RoutingOracle(logits, n, e, k).Experts;
        }

        return new(name, hidden,
            f =>
            {
                float[] pi = Copy(probs);
                int[] ai = (int[])assignment.Clone();
                float loss = f(pi, ai, n, e, alpha);
                Unchanged("probs", probs, pi);
                if (!ai.SequenceEqual(assignment))
                {
                    throw new InputModifiedException("assignment");
                }

                return [Out("loss", [loss])];
            },
            () => [Out("loss", [(float)BalanceOracle(probs, assignment, n, e, alpha)])],
            Tolerance.Forward);
    }
}
