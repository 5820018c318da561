namespace CourseLib.Init;

/// <summary>How a weight matrix W: [out, in] is drawn at the start of training.</summary>
public enum InitScheme
{
    /// <summary>
    /// PyTorch's nn.Linear default: U(−1/√in, 1/√in) for weights and biases (kaiming_uniform with a = √5 reduces to this).
    /// </summary>
    PyTorchDefault,

    /// <summary>Xavier/Glorot uniform, U(−√(6/(in+out)), √(6/(in+out))), zero bias — the original Transformer's choice.</summary>
    Xavier,

    /// <summary>N(0, 0.02²), zero bias — GPT-2's choice.</summary>
    Normal002,
}

/// <summary>
/// Weight initializations. Each fills a buffer in place from an explicit <see cref="Rng"/>; the "scaled"
/// variants multiply by a gain (e.g. DeepNorm's β, or GPT-2's 1/√(2L) on residual projections).
/// </summary>
public static class Initializers
{
    /// <summary>Xavier/Glorot uniform bound √(6/(fanIn+fanOut)), times <paramref name="gain"/>.</summary>
    public static double XavierBound(int fanIn, int fanOut, double gain = 1.0) => gain * Math.Sqrt(6.0 / (fanIn + fanOut));

    /// <summary>PyTorch's default bound 1/√fanIn.</summary>
    public static double PyTorchBound(int fanIn) => 1.0 / Math.Sqrt(fanIn);

    /// <summary>Fills a [fanOut, fanIn] weight by <paramref name="scheme"/>, multiplied by <paramref name="gain"/>.</summary>
    public static void Weight(Span<float> w, int fanIn, int fanOut, InitScheme scheme, Rng rng, double gain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (w.Length != (long)fanIn * fanOut)
        {
            throw new ArgumentException($"w has {w.Length} elements but fanOut·fanIn = {fanOut}·{fanIn} = {(long)fanIn * fanOut} were expected.", nameof(w));
        }

        switch (scheme)
        {
            case InitScheme.PyTorchDefault:
                rng.FillUniform(w, gain * PyTorchBound(fanIn));
                break;
            case InitScheme.Xavier:
                rng.FillUniform(w, XavierBound(fanIn, fanOut, gain));
                break;
            case InitScheme.Normal002:
                rng.FillNormal(w, 0.02 * gain);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown initialization scheme.");
        }
    }

    /// <summary>Fills a bias: PyTorch's default draws U(−1/√fanIn, 1/√fanIn); the other schemes start at zero.</summary>
    public static void Bias(Span<float> b, int fanIn, InitScheme scheme, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (scheme == InitScheme.PyTorchDefault)
        {
            rng.FillUniform(b, PyTorchBound(fanIn));
        }
        else
        {
            b.Clear();
        }
    }
}
