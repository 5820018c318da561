namespace CourseLib.Init;

/// <summary>
/// The one source of randomness in CourseLib: a seeded generator with the few draws models and datasets need.
/// Everything random (initial weights, batches, dropout seeds) takes one of these or a seed, never the clock, so
/// the same seed gives the same numbers on the same machine and runtime.
/// </summary>
public sealed class Rng
{
    private readonly Random _random;
    private double? _spare;

    /// <summary>A generator started from <paramref name="seed"/>.</summary>
    public Rng(int seed)
    {
        Seed = seed;
        // Random(int) uses the legacy seeded algorithm, which .NET keeps stable across versions for exactly this reason.
        _random = new Random(seed);
    }

    /// <summary>The seed this generator started from.</summary>
    public int Seed { get; }

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    /// <summary>Uniform integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int minInclusive, int maxExclusive) => _random.Next(minInclusive, maxExclusive);

    /// <summary>Uniform double in [0, 1).</summary>
    public double NextDouble() => _random.NextDouble();

    /// <summary>Uniform float in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public float Uniform(float low, float high) => (float)(low + (high - low) * _random.NextDouble());

    /// <summary>Standard normal draw (Box–Muller, both values used).</summary>
    public double Normal()
    {
        if (_spare is double s)
        {
            _spare = null;
            return s;
        }

        double u1 = 1.0 - _random.NextDouble(), u2 = _random.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A fresh seed for a child generator (e.g. one per module), drawn from this one.</summary>
    public int NextSeed() => _random.Next();

    /// <summary>Fills <paramref name="destination"/> with N(0, <paramref name="std"/>²).</summary>
    public void FillNormal(Span<float> destination, double std)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)(std * Normal());
        }
    }

    /// <summary>Fills <paramref name="destination"/> with U(−<paramref name="bound"/>, <paramref name="bound"/>).</summary>
    public void FillUniform(Span<float> destination, double bound)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)((2 * _random.NextDouble() - 1) * bound);
        }
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
