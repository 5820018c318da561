using CourseLib.Init;

namespace CourseLib.Data;

/// <summary>
/// The small seeded tasks the lessons train on. Each call draws a fresh batch from the given <see cref="Rng"/>,
/// so a seed fixes the whole stream of batches.
/// </summary>
public static class SyntheticTasks
{
    /// <summary>
    /// Modular addition a + b ≡ c (mod p) as next-token prediction: the sequence is <c>a b =</c> (T = 3, '=' is
    /// token p, vocabulary p + 1) and only the last position is scored, with target c.
    /// </summary>
    public static Batch ModularAddition(int size, int modulus, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(modulus, 2);
        var tokens = new int[size * 3];
        var labels = new int[size * 3];
        for (int i = 0; i < size; i++)
        {
            int a = rng.Next(modulus), b = rng.Next(modulus);
            tokens[3 * i] = a;
            tokens[3 * i + 1] = b;
            tokens[3 * i + 2] = modulus;
            labels[3 * i] = -1;
            labels[3 * i + 1] = -1;
            labels[3 * i + 2] = (a + b) % modulus;
        }

        return Batch.ForTokens(size, 3, tokens, labels);
    }

    /// <summary>
    /// Sparse parity: <paramref name="bits"/> inputs in {−1, +1}; the label is the parity of the bits at the
    /// <paramref name="secret"/> positions (1 when an odd number of them are +1). Two classes.
    /// </summary>
    public static Batch SparseParity(int size, int bits, IReadOnlyList<int> secret, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        foreach (int s in secret)
        {
            if (s < 0 || s >= bits)
            {
                throw new ArgumentOutOfRangeException(nameof(secret), s, $"secret index {s} is outside [0, {bits}).");
            }
        }

        var x = new float[size * bits];
        var y = new int[size];
        for (int i = 0; i < size; i++)
        {
            for (int j = 0; j < bits; j++)
            {
                x[i * bits + j] = rng.Next(2) == 0 ? -1f : 1f;
            }

            int ones = 0;
            foreach (int s in secret)
            {
                ones += x[i * bits + s] > 0 ? 1 : 0;
            }

            y[i] = ones % 2;
        }

        return Batch.ForClasses(size, bits, x, y);
    }

    /// <summary>The secret positions for <see cref="SparseParity"/>: <paramref name="k"/> distinct indices from a seed.</summary>
    public static int[] ParitySecret(int bits, int k, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, bits);
        var all = Enumerable.Range(0, bits).ToArray();
        rng.Shuffle(all.AsSpan());
        return all.Take(k).Order().ToArray();
    }

    /// <summary>
    /// Two interleaved spirals in the plane (Lang &amp; Witbrock 1988), label 0 or 1 with equal probability.
    /// A point at fraction u ∈ [0, 1) along its arm sits at radius r = u and angle θ = <paramref name="turns"/>·2π·u
    /// (+π for the second arm), plus N(0, <paramref name="noise"/>²) on each coordinate.
    /// </summary>
    public static Batch TwoSpirals(int size, Rng rng, double turns = 1.5, double noise = 0.02)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var x = new float[size * 2];
        var y = new int[size];
        for (int i = 0; i < size; i++)
        {
            int label = rng.Next(2);
            double u = rng.NextDouble();
            double theta = turns * 2 * Math.PI * u + label * Math.PI;
            x[2 * i] = (float)(u * Math.Cos(theta) + noise * rng.Normal());
            x[2 * i + 1] = (float)(u * Math.Sin(theta) + noise * rng.Normal());
            y[i] = label;
        }

        return Batch.ForClasses(size, 2, x, y);
    }

    /// <summary>Noisy sine regression: x ~ U(−π, π), y = sin(x) + N(0, <paramref name="noise"/>²).</summary>
    public static Batch NoisySine(int size, Rng rng, double noise = 0.1)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var x = new float[size];
        var y = new float[size];
        for (int i = 0; i < size; i++)
        {
            double v = (2 * rng.NextDouble() - 1) * Math.PI;
            x[i] = (float)v;
            y[i] = (float)(Math.Sin(v) + noise * rng.Normal());
        }

        return Batch.ForRegression(size, 1, x, 1, y);
    }
}
