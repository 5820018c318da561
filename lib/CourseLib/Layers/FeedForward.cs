using CourseLib.Init;
using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>The non-linearity of a feed-forward network; ReGlu, GeGlu, SwiGlu and Glu are gated (two up-projections).</summary>
public enum Activation
{
    /// <summary>max(0, x) — the original Transformer's.</summary>
    Relu,

    /// <summary>x·Φ(x), exact (erf) — BERT's and GPT's.</summary>
    Gelu,

    /// <summary>GELU's tanh approximation, as GPT-2 computed it.</summary>
    GeluTanh,

    /// <summary>x·σ(x) (Swish-1).</summary>
    Silu,

    /// <summary>ReLU(x·W)⊙(x·V) (Shazeer 2020).</summary>
    ReGlu,

    /// <summary>GELU(x·W)⊙(x·V) (Shazeer 2020).</summary>
    GeGlu,

    /// <summary>SiLU(x·W)⊙(x·V) (Shazeer 2020), LLaMA's choice.</summary>
    SwiGlu,

    /// <summary>σ(x·W)⊙(x·V): the original GLU (Dauphin et al. 2017), the baseline of Shazeer 2020's gated variants.</summary>
    Glu,
}

/// <summary>
/// The position-wise feed-forward network. Plain: y = act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂ with W₁: [H, C], W₂: [C, H];
/// gated: y = (act(x·Wᵀ) ⊙ x·Vᵀ)·W₂ᵀ, the up-projection producing [gate | value] as one [2H, C] matrix.
/// Parameters: 2CH + H + C plain, 3CH + 2H + C gated (with bias), so a gated FFN at H = 8C/3 holds as many as a
/// plain one at H = 4C (8C²). Forward FLOPs: 4·N·C·H plain, 6·N·C·H gated.
/// </summary>
public sealed class FeedForward : Layer
{
    private float[]? _a, _dh;
    private float[] _h = [];
    private int _rows;

    /// <summary>A feed-forward network of width <paramref name="channels"/>.</summary>
    /// <param name="channels">C.</param>
    /// <param name="activation">The non-linearity.</param>
    /// <param name="rng">Source of initial weights.</param>
    /// <param name="hidden">H; 0 (default) means 4C for plain activations and round(8C/3) for gated ones (parameter-matched).</param>
    /// <param name="init">Initialization of both projections.</param>
    /// <param name="bias">Whether the projections have biases.</param>
    /// <param name="upGain">Scales the initial up-projection (DeepNorm's β).</param>
    /// <param name="downGain">Scales the initial down-projection (DeepNorm's β, GPT-2's 1/√(2L)).</param>
    public FeedForward(int channels, Activation activation, Rng rng, int hidden = 0, InitScheme init = InitScheme.PyTorchDefault, bool bias = true, double upGain = 1.0, double downGain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(hidden);
        Channels = channels;
        Activation = activation;
        Hidden = hidden > 0 ? hidden : DefaultHidden(channels, activation);
        Up = AddModule("up", new LinearLayer(channels, IsGated ? 2 * Hidden : Hidden, rng, init, bias, upGain));
        Down = AddModule("down", new LinearLayer(Hidden, channels, rng, init, bias, downGain));
    }

    /// <summary>4C for plain activations; round(8C/3) for gated ones, which matches the plain FFN's 8C² weights.</summary>
    public static int DefaultHidden(int channels, Activation activation) => IsGatedKind(activation) ? (int)Math.Round(8.0 * channels / 3) : 4 * channels;

    /// <summary>Whether <paramref name="activation"/> is a gated unit (ReGLU, GEGLU, SwiGLU, GLU).</summary>
    public static bool IsGatedKind(Activation activation) => activation is Activation.ReGlu or Activation.GeGlu or Activation.SwiGlu or Activation.Glu;

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>H.</summary>
    public int Hidden { get; }

    /// <summary>The non-linearity.</summary>
    public Activation Activation { get; }

    /// <summary>Whether this FFN is gated.</summary>
    public bool IsGated => IsGatedKind(Activation);

    /// <summary>Up-projection: [H, C], or [2H, C] = [gate | value] when gated.</summary>
    public LinearLayer Up { get; }

    /// <summary>Down-projection: [C, H].</summary>
    public LinearLayer Down { get; }

    /// <inheritdoc />
    public override int InputSize => Channels;

    /// <inheritdoc />
    public override int OutputSize => Channels;

    /// <summary>Pre-activations h of the last forward pass ([N, H], or [N, 2H] when gated).</summary>
    public ReadOnlySpan<float> PreActivations => _h;

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _rows = ctx.Rows;
        _h = Up.Forward(x, ctx);
        float[] a = Ensure(ref _a, _rows * Hidden);
        if (IsGated)
        {
            Gated.Forward(_h, a, _rows, Hidden, GateOf(Activation));
        }
        else
        {
            ElementwiseActivation.Forward(Activation, _h, a);
        }

        LastOutput = Down.Forward(a, ctx);
        return LastOutput;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] da = Down.Backward(dy);
        float[] dh = Ensure(ref _dh, _h.Length);
        if (IsGated)
        {
            Array.Clear(dh);
            Gated.Backward(da, _h, dh, _rows, Hidden, GateOf(Activation));
        }
        else
        {
            ElementwiseActivation.BackwardOverwriting(Activation, da, _h, dh);
        }

        return Up.Backward(dh);
    }

    /// <summary>
    /// Fraction of ReLU hidden units that were ≤ 0 on every row of the last batch ("dead" for that batch: they pass no
    /// gradient to their weights). Null for other activations.
    /// </summary>
    public double? DeadReluFraction()
    {
        if (Activation != Activation.Relu || _rows == 0)
        {
            return null;
        }

        int dead = 0;
        for (int j = 0; j < Hidden; j++)
        {
            bool alive = false;
            for (int r = 0; r < _rows && !alive; r++)
            {
                alive = _h[r * Hidden + j] > 0;
            }

            dead += alive ? 0 : 1;
        }

        return (double)dead / Hidden;
    }

    /// <inheritdoc />
    public override void AddDiagnostics(string path, IDictionary<string, double> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (DeadReluFraction() is double d)
        {
            sink[path + ".dead_relu"] = d;
        }
    }

    private static GateKind GateOf(Activation a) => a switch
    {
        Activation.ReGlu => GateKind.ReGlu,
        Activation.GeGlu => GateKind.GeGlu,
        Activation.SwiGlu => GateKind.SwiGlu,
        Activation.Glu => GateKind.Glu,
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "Not a gated activation."),
    };
}
