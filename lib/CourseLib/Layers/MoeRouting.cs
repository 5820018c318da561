namespace CourseLib.Layers;

/// <summary>
/// The routing arithmetic of <see cref="MoeFeedForward"/> as plain functions, for lessons and exercises.
/// probs: [N, E] router probabilities (softmax over all E logits of a token); experts, gates: [N, k].
/// Top-k: each token's k most probable experts, highest first, ties to the lower expert index; the gate of a chosen
/// expert is its probability under the softmax over all E experts, not renormalised over the k chosen (the Switch
/// Transformer's convention for k = 1, and what <see cref="MoeFeedForward"/> multiplies each expert's output by).
/// Load balancing (Switch Transformer, Fedus et al. 2021, eq. 4): α·E·Σ_e f_e·P_e with f_e the fraction of the N·k
/// assignments that went to e and P_e the mean router probability of e.
/// </summary>
public static class MoeRouting
{
    /// <summary>Writes each token's top-<paramref name="k"/> experts and their gates (see the class summary).</summary>
    /// <param name="probs">Router probabilities [N, E].</param>
    /// <param name="experts">Chosen experts [N, k], highest probability first.</param>
    /// <param name="gates">Their probabilities [N, k].</param>
    /// <param name="n">N, tokens.</param>
    /// <param name="e">E, experts.</param>
    /// <param name="k">k, experts per token (1 ≤ k ≤ E).</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, or k is outside [1, E].</exception>
    public static void TopK(ReadOnlySpan<float> probs, Span<int> experts, Span<float> gates, int n, int e, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(e, 1);
        if (k < 1 || k > e)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, E = {e}].");
        }

        if (probs.Length != (long)n * e)
        {
            throw new ArgumentException($"probs has {probs.Length} elements, expected N·E = {n}·{e}.", nameof(probs));
        }

        if (experts.Length != (long)n * k)
        {
            throw new ArgumentException($"experts has {experts.Length} elements, expected N·k = {n}·{k}.", nameof(experts));
        }

        if (gates.Length != (long)n * k)
        {
            throw new ArgumentException($"gates has {gates.Length} elements, expected N·k = {n}·{k}.", nameof(gates));
        }

        var order = new int[e];
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<float> row = probs.Slice(r * e, e);
            for (int j = 0; j < e; j++)
            {
                order[j] = j;
            }

            // Stable partial selection sort of the k largest (MoeFeedForward.Forward routes with it): strict > keeps
            // the lower index on ties.
            for (int slot = 0; slot < k; slot++)
            {
                int best = slot;
                for (int j = slot + 1; j < e; j++)
                {
                    if (row[order[j]] > row[order[best]])
                    {
                        best = j;
                    }
                }

                (order[slot], order[best]) = (order[best], order[slot]);
                experts[r * k + slot] = order[slot];
                gates[r * k + slot] = row[order[slot]];
            }
        }
    }

    /// <summary>
    /// The Switch load-balancing loss α·E·Σ_e f_e·P_e of router probabilities [N, E] and assignments [N, k]
    /// (f_e = assignments to e / (N·k), P_e = mean over tokens of probs[:, e]); α under uniform routing.
    /// </summary>
    /// <param name="probs">Router probabilities [N, E].</param>
    /// <param name="assignment">Chosen experts [N, k], each in [0, E).</param>
    /// <param name="n">N, tokens (≥ 1).</param>
    /// <param name="e">E, experts.</param>
    /// <param name="k">k, experts per token.</param>
    /// <param name="alpha">α, the loss weight.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length, or an assignment is not an expert.</exception>
    public static double LoadBalancingLoss(ReadOnlySpan<float> probs, ReadOnlySpan<int> assignment, int n, int e, int k, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(e, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (probs.Length != (long)n * e)
        {
            throw new ArgumentException($"probs has {probs.Length} elements, expected N·E = {n}·{e}.", nameof(probs));
        }

        if (assignment.Length != (long)n * k)
        {
            throw new ArgumentException($"assignment has {assignment.Length} elements, expected N·k = {n}·{k}.", nameof(assignment));
        }

        var counts = new int[e];
        foreach (int a in assignment)
        {
            if ((uint)a >= (uint)e)
            {
                throw new ArgumentException($"assignment holds expert {a}, outside [0, E = {e}).", nameof(assignment));
            }

            counts[a]++;
        }

        var fraction = new float[e];
        var meanProbability = new float[e];
        for (int j = 0; j < e; j++)
        {
            fraction[j] = (float)((double)counts[j] / ((long)n * k));
            double s = 0;
            for (int r = 0; r < n; r++)
            {
                s += probs[r * e + j];
            }

            meanProbability[j] = (float)(s / n);
        }

        return MoeFeedForward.LoadBalancingLoss(fraction, meanProbability, alpha);
    }
}
