using CourseLib.Data;
using CourseLib.Init;

namespace CourseLib.Models;

/// <summary>
/// Picks the next token from a language model's logits z: [V]. Softmax at a temperature τ, computed in double with
/// the largest logit subtracted first (so logits of any size neither overflow nor underflow to 0/0):
/// p_i = exp((z_i − max z)/τ) / Σ_j exp((z_j − max z)/τ); then inverse-CDF sampling with a uniform u ∈ [0, 1):
/// the token is the smallest i with u &lt; p_0 + … + p_i (the last token if rounding leaves u above the total).
/// τ &lt; 1 sharpens the distribution towards the most likely token, τ &gt; 1 flattens it; τ = 1 samples the model's
/// own distribution, as <see cref="TinyLm.Generate"/> does.
/// </summary>
public static class TokenSampler
{
    /// <summary>The softmax of <paramref name="logits"/> at <paramref name="temperature"/>, into <paramref name="probabilities"/> (double).</summary>
    /// <exception cref="ArgumentException">Empty or non-finite logits, or an output of another length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not a positive finite number.</exception>
    public static void Probabilities(ReadOnlySpan<float> logits, float temperature, Span<double> probabilities)
    {
        Validate(logits, temperature);
        if (probabilities.Length != logits.Length)
        {
            throw new ArgumentException($"probabilities has {probabilities.Length} elements, but logits has {logits.Length}.", nameof(probabilities));
        }

        float max = logits[0];
        foreach (float z in logits)
        {
            max = Math.Max(max, z);
        }

        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            // The largest term is exp(0) = 1, so the sum lies in [1, V]: no overflow, and never 0/0.
            probabilities[i] = Math.Exp(((double)logits[i] - max) / temperature);
            sum += probabilities[i];
        }

        for (int i = 0; i < logits.Length; i++)
        {
            probabilities[i] /= sum;
        }
    }

    /// <summary>The token drawn from softmax(<paramref name="logits"/> / <paramref name="temperature"/>) by the uniform number <paramref name="u"/>.</summary>
    /// <exception cref="ArgumentException">Empty or non-finite logits.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not positive and finite, or u is outside [0, 1).</exception>
    public static int Sample(ReadOnlySpan<float> logits, float temperature, double u)
    {
        if (!(u >= 0 && u < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(u), u, "u must be a uniform number in [0, 1).");
        }

        Span<double> p = logits.Length <= 512 ? stackalloc double[logits.Length] : new double[logits.Length];
        Probabilities(logits, temperature, p);
        double cdf = 0;
        for (int i = 0; i < p.Length; i++)
        {
            cdf += p[i];
            if (u < cdf)
            {
                return i;
            }
        }

        return p.Length - 1;
    }

    /// <summary>
    /// Samples <paramref name="count"/> tokens after <paramref name="prompt"/> at <paramref name="temperature"/>, one uniform
    /// number from <paramref name="rng"/> per token, feeding back at most <see cref="LmConfig.Context"/> tokens. At τ = 1
    /// it draws the same tokens as <see cref="TinyLm.Generate"/> with the same <see cref="Rng"/> (up to rounding at a
    /// CDF boundary: that one sums float probabilities).
    /// </summary>
    /// <exception cref="ArgumentException">An empty prompt.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not positive and finite, or the count is negative.</exception>
    public static int[] Generate(TinyLm model, IReadOnlyList<int> prompt, int count, float temperature, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));
        }

        if (!(temperature > 0 && float.IsFinite(temperature)))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a positive finite number.");
        }

        int vocab = model.Config.Vocab;
        var seq = new List<int>(prompt);
        var output = new int[count];
        for (int i = 0; i < count; i++)
        {
            int[] window = seq.Skip(Math.Max(0, seq.Count - model.Config.Context)).ToArray();
            var ignore = Enumerable.Repeat(-1, window.Length).ToArray();
            ignore[^1] = 0;
            model.Forward(Batch.ForTokens(1, window.Length, window, ignore), training: false);
            int next = Sample(model.Output.AsSpan((window.Length - 1) * vocab, vocab), temperature, rng.NextDouble());
            output[i] = next;
            seq.Add(next);
        }

        return output;
    }

    private static void Validate(ReadOnlySpan<float> logits, float temperature)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("logits is empty; a vocabulary has at least one token.", nameof(logits));
        }

        if (!(temperature > 0 && float.IsFinite(temperature)))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a positive finite number.");
        }

        for (int i = 0; i < logits.Length; i++)
        {
            if (!float.IsFinite(logits[i]))
            {
                throw new ArgumentException($"logits[{i}] = {logits[i]} is not finite (of {logits.Length} logits).", nameof(logits));
            }
        }
    }
}
