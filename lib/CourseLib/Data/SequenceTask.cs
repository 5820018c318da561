using CourseLib.Init;

namespace CourseLib.Data;

/// <summary>Which sequence-to-sequence map a <see cref="SequenceTask"/> asks for.</summary>
public enum SequenceTaskKind
{
    /// <summary>Output = input.</summary>
    Copy,

    /// <summary>Output = input reversed.</summary>
    Reverse,

    /// <summary>Output = input sorted ascending.</summary>
    Sort,
}

/// <summary>
/// Copy / reverse / sort as next-token prediction, the way a decoder-only model sees them. With L symbols
/// x₁…x_L drawn from {0 … vocab−2} and the separator s = vocab−1, one sequence of T = 2L tokens is
/// <c>x₁ … x_L s y₁ … y_{L−1}</c>, and only the L positions from s onward are scored, each predicting the next yᵢ.
/// The first half is random and unpredictable, so it is not scored: chance loss is ln(vocab) per scored token.
/// </summary>
public sealed class SequenceTask
{
    private readonly Rng _rng;

    /// <summary>A task generating batches from <paramref name="seed"/>.</summary>
    /// <param name="kind">Copy, reverse or sort.</param>
    /// <param name="length">L, symbols per input (T = 2L).</param>
    /// <param name="vocab">Vocabulary size including the separator (≥ 3).</param>
    /// <param name="seed">Seed of the batch stream.</param>
    public SequenceTask(SequenceTaskKind kind, int length, int vocab, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 3);
        Kind = kind;
        Length = length;
        Vocab = vocab;
        _rng = new Rng(seed);
    }

    /// <summary>The map asked for.</summary>
    public SequenceTaskKind Kind { get; }

    /// <summary>L, symbols per input.</summary>
    public int Length { get; }

    /// <summary>Vocabulary size including the separator.</summary>
    public int Vocab { get; }

    /// <summary>Sequence length T = 2L.</summary>
    public int Time => 2 * Length;

    /// <summary>Separator token id (vocab − 1).</summary>
    public int Separator => Vocab - 1;

    /// <summary>The next batch of <paramref name="size"/> sequences.</summary>
    public Batch Next(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        int l = Length, t = Time;
        var tokens = new int[size * t];
        var labels = new int[size * t];
        var x = new int[l];
        for (int b = 0; b < size; b++)
        {
            for (int i = 0; i < l; i++)
            {
                x[i] = _rng.Next(Vocab - 1);
            }

            int[] y = Kind switch
            {
                SequenceTaskKind.Copy => (int[])x.Clone(),
                SequenceTaskKind.Reverse => x.Reverse().ToArray(),
                SequenceTaskKind.Sort => x.Order().ToArray(),
                _ => throw new InvalidOperationException($"Unknown task {Kind}."),
            };
            int o = b * t;
            for (int i = 0; i < l; i++)
            {
                tokens[o + i] = x[i];
                labels[o + i] = -1;
            }

            tokens[o + l] = Separator;
            for (int i = 0; i < l; i++)
            {
                if (i < l - 1)
                {
                    tokens[o + l + 1 + i] = y[i];
                }

                labels[o + l + i] = y[i];
            }
        }

        return Batch.ForTokens(size, t, tokens, labels);
    }
}
