using System.Numerics.Tensors;
using CourseLib.Init;
using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>Where a block normalizes, relative to its residual connections.</summary>
public enum NormPlacement
{
    /// <summary>Post-LN (Vaswani et al. 2017): x = LN(x + F(x)).</summary>
    PostLn,

    /// <summary>Pre-LN (Xiong et al. 2020; GPT-2): x = x + F(LN(x)).</summary>
    PreLn,

    /// <summary>Peri-LN (Kim et al. 2025): x = x + LN(F(LN(x))).</summary>
    PeriLn,

    /// <summary>DeepNorm (Wang et al. 2022): x = LN(α·x + F(x)), with β-scaled initialization of F.</summary>
    DeepNorm,

    /// <summary>ReZero (Bachlechner et al. 2020): x = x + α·F(x), α a learned scalar starting at 0; no norm.</summary>
    ReZero,

    /// <summary>No normalization: x = x + F(x).</summary>
    None,
}

/// <summary>
/// One transformer block's settings. Defaults describe a small GPT-style Pre-LN block.
/// </summary>
public sealed record BlockConfig
{
    /// <summary>C, the residual width (64: lesson-sized, trains in seconds).</summary>
    public int Channels { get; init; } = 64;

    /// <summary>Attention heads (4: head size 16 at C = 64).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>FFN hidden width H; 0 = 4C plain or 8C/3 gated (the parameter-matched default).</summary>
    public int Hidden { get; init; }

    /// <summary>FFN non-linearity (GELU: GPT's).</summary>
    public Activation Activation { get; init; } = Activation.Gelu;

    /// <summary>Which norm (LayerNorm: the Transformer's).</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;

    /// <summary>Where the norm goes (Pre-LN: what trains without warm-up).</summary>
    public NormPlacement Placement { get; init; } = NormPlacement.PreLn;

    /// <summary>Weight initialization (PyTorch's default, so twins start identical without copying).</summary>
    public InitScheme Init { get; init; } = InitScheme.PyTorchDefault;

    /// <summary>Experts in the FFN; 0 (default) = a dense FFN.</summary>
    public int Experts { get; init; }

    /// <summary>Experts per token when <see cref="Experts"/> &gt; 0 (1: Switch routing).</summary>
    public int TopK { get; init; } = 1;

    /// <summary>MoE capacity factor (1.25: Switch Transformer).</summary>
    public double CapacityFactor { get; init; } = 1.25;

    /// <summary>MoE load-balancing weight α (0.01: Switch Transformer).</summary>
    public double AuxLossWeight { get; init; } = 0.01;

    /// <summary>
    /// Residual dropout probability on each sublayer's output F(x), in training mode only (0: the lessons' small
    /// models do not overfit in a few hundred steps, and curves stay comparable across runs without it).
    /// </summary>
    public double Dropout { get; init; }

    /// <summary>DeepNorm's residual scale α (1 unless <see cref="Placement"/> is DeepNorm; see <see cref="TransformerBlock.DeepNormConstants"/>).</summary>
    public double DeepNormAlpha { get; init; } = 1;

    /// <summary>DeepNorm's initialization gain β for the FFN, value and output projections (1 = unscaled).</summary>
    public double DeepNormBeta { get; init; } = 1;
}

/// <summary>
/// A transformer block: causal self-attention then a feed-forward network, each wrapped by the residual and norm
/// arrangement of <see cref="BlockConfig.Placement"/>. x, y: [B·T, C]. Parameters (dense FFN, H = 4C, with biases,
/// LayerNorm): 12C² + 13C — attention 4C² + 4C, FFN 8C² + 5C, two norms 4C.
/// </summary>
public sealed class TransformerBlock : Layer
{
    private readonly Layer[] _f;
    private readonly NormLayer?[] _norm = new NormLayer?[2];
    private readonly NormLayer?[] _outNorm = new NormLayer?[2];
    private readonly Parameter?[] _gate = new Parameter?[2];
    private readonly float[]?[] _sum = new float[]?[2];
    private readonly float[]?[] _dx = new float[]?[2];
    private readonly float[]?[] _dfx = new float[]?[2];
    private readonly float[][] _fx = [[], []];
    private readonly float[]?[] _dropped = new float[]?[2];
    private readonly float[]?[] _ddrop = new float[]?[2];
    private readonly byte[]?[] _mask = new byte[]?[2];
    private readonly bool[] _dropActive = new bool[2];
    private readonly int _dropoutSeed;
    private int _rows;

    /// <summary>A block built from <paramref name="config"/>, weights drawn from <paramref name="rng"/>.</summary>
    public TransformerBlock(BlockConfig config, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rng);
        Config = config;
        int c = config.Channels;
        double beta = config.Placement == NormPlacement.DeepNorm ? config.DeepNormBeta : 1.0;
        bool preNorm = config.Placement is NormPlacement.PreLn or NormPlacement.PeriLn;
        bool postNorm = config.Placement is NormPlacement.PostLn or NormPlacement.DeepNorm;

        // Registered in forward order, so diagnostics (e.g. the first NaN) are reported in the order they happen.
        if (preNorm)
        {
            _norm[0] = AddModule("norm1", NormLayer.Create(config.Norm, c));
        }

        Attention = AddModule("attn", new CausalSelfAttention(c, config.Heads, rng, config.Init, valueGain: beta, projectionGain: beta));
        if (config.Placement == NormPlacement.PeriLn)
        {
            _outNorm[0] = AddModule("norm1_out", NormLayer.Create(config.Norm, c));
        }

        if (postNorm)
        {
            _norm[0] = AddModule("norm1", NormLayer.Create(config.Norm, c));
        }

        if (preNorm)
        {
            _norm[1] = AddModule("norm2", NormLayer.Create(config.Norm, c));
        }

        Ffn = config.Experts > 0
            ? AddModule("ffn", new MoeFeedForward(c, config.Experts, config.TopK, config.Activation, rng, config.Hidden, config.CapacityFactor, config.AuxLossWeight, config.Init))
            : AddModule("ffn", new FeedForward(c, config.Activation, rng, config.Hidden, config.Init, upGain: beta, downGain: beta));
        if (config.Placement == NormPlacement.PeriLn)
        {
            _outNorm[1] = AddModule("norm2_out", NormLayer.Create(config.Norm, c));
        }

        if (postNorm)
        {
            _norm[1] = AddModule("norm2", NormLayer.Create(config.Norm, c));
        }

        if (config.Placement == NormPlacement.ReZero)
        {
            // α = 0: the block starts as the identity, which is ReZero's point.
            _gate[0] = AddParameter("rezero_attn", [1], decay: false);
            _gate[1] = AddParameter("rezero_ffn", [1], decay: false);
        }

        _f = [Attention, Ffn];
        if (config.Dropout is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.Dropout, "Dropout must be in [0, 1).");
        }

        // Drawn only when dropout is on, so models without it get exactly the same weights as before.
        _dropoutSeed = config.Dropout > 0 ? rng.NextSeed() : 0;
    }

    /// <summary>DeepNorm's constants for a decoder-only stack of <paramref name="layers"/> blocks (Wang et al. 2022, Table 1): α = (2N)^¼, β = (8N)^−¼.</summary>
    public static (double Alpha, double Beta) DeepNormConstants(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        return (Math.Pow(2.0 * layers, 0.25), Math.Pow(8.0 * layers, -0.25));
    }

    /// <summary>The settings.</summary>
    public BlockConfig Config { get; }

    /// <summary>Where the norms go.</summary>
    public NormPlacement Placement => Config.Placement;

    /// <summary>The attention sublayer.</summary>
    public CausalSelfAttention Attention { get; }

    /// <summary>The feed-forward sublayer (a <see cref="FeedForward"/> or <see cref="MoeFeedForward"/>).</summary>
    public Layer Ffn { get; }

    /// <summary>The MoE load-balancing loss of the last forward pass (0 for a dense FFN).</summary>
    public double AuxLoss => Ffn is MoeFeedForward moe ? moe.AuxLoss : 0;

    /// <inheritdoc />
    public override int InputSize => Config.Channels;

    /// <inheritdoc />
    public override int OutputSize => Config.Channels;

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _rows = ctx.Rows;
        float[] h = Sublayer(0, x, ctx);
        LastOutput = Sublayer(1, h, ctx);
        return LastOutput;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Config.Channels);
        return SublayerBackward(0, SublayerBackward(1, dy));
    }

    /// <inheritdoc />
    public override void AddDiagnostics(string path, IDictionary<string, double> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (LastOutput is { } y)
        {
            double s = 0;
            foreach (float v in y)
            {
                s += (double)v * v;
            }

            sink[path + ".residual_rms"] = Math.Sqrt(s / y.Length);
        }
    }

    // Each case is the placement's equation; F is attention (i = 0) or the FFN (i = 1), followed by residual dropout
    // when it is on.
    private float[] Sublayer(int i, float[] x, ForwardContext ctx)
    {
        float[] F(float[] h) => Drop(i, _f[i].Forward(h, ctx), ctx);
        return Placement switch
        {
            NormPlacement.PostLn => _norm[i]!.Forward(Residual(i, x, F(x)), ctx),                                // LN(x + F(x))
            NormPlacement.PreLn => Residual(i, x, F(_norm[i]!.Forward(x, ctx))),                                 // x + F(LN(x))
            NormPlacement.PeriLn => Residual(i, x, _outNorm[i]!.Forward(F(_norm[i]!.Forward(x, ctx)), ctx)),     // x + LN(F(LN(x)))
            NormPlacement.DeepNorm => _norm[i]!.Forward(Residual(i, x, F(x), (float)Config.DeepNormAlpha), ctx), // LN(α·x + F(x))
            NormPlacement.ReZero => Residual(i, x, F(x), 1f, _gate[i]!.Data[0]),                                 // x + α·F(x)
            _ => Residual(i, x, F(x)),                                                                             // x + F(x)
        };
    }

    // The same equations differentiated, last operation first; FBack is the derivative through F (and its dropout).
    private float[] SublayerBackward(int i, float[] dy)
    {
        float[] FBack(float[] d) => _f[i].Backward(DropBackward(i, d));
        float[] dx = Ensure(ref _dx[i], dy.Length);
        switch (Placement)
        {
            case NormPlacement.PostLn:
            {
                float[] ds = _norm[i]!.Backward(dy);   // y = LN(s)
                Add(dx, ds, 1f, FBack(ds));              // s = x + F(x)
                break;
            }

            case NormPlacement.PreLn:
                Add(dx, dy, 1f, _norm[i]!.Backward(FBack(dy)));
                break;
            case NormPlacement.PeriLn:
                Add(dx, dy, 1f, _norm[i]!.Backward(FBack(_outNorm[i]!.Backward(dy))));
                break;
            case NormPlacement.DeepNorm:
            {
                float[] ds = _norm[i]!.Backward(dy);
                Add(dx, ds, (float)Config.DeepNormAlpha, FBack(ds));   // s = α·x + F(x)
                break;
            }

            case NormPlacement.ReZero:
            {
                Parameter gate = _gate[i]!;
                float alpha = gate.Data[0];
                float[] dfx = Ensure(ref _dfx[i], dy.Length);
                double dalpha = 0;
                for (int k = 0; k < dy.Length; k++)
                {
                    dalpha += (double)dy[k] * _fx[i][k];
                    dfx[k] = alpha * dy[k];
                }

                gate.Grad[0] += (float)dalpha;
                Add(dx, dy, 1f, FBack(dfx));
                break;
            }

            default:
                Add(dx, dy, 1f, FBack(dy));
                break;
        }

        return dx;
    }

    /// <summary>Residual dropout of a sublayer's output in training mode; the identity otherwise.</summary>
    private float[] Drop(int i, float[] fx, ForwardContext ctx)
    {
        _dropActive[i] = Config.Dropout > 0 && ctx.Training;
        if (!_dropActive[i])
        {
            return fx;
        }

        float[] y = Ensure(ref _dropped[i], fx.Length);
        byte[] mask = _mask[i] is { } m && m.Length == fx.Length ? m : (_mask[i] = new byte[fx.Length]);
        // A new mask every step and for each sublayer, reproducible from the model's seed.
        ulong seed = unchecked(((ulong)(uint)_dropoutSeed << 32) ^ ((ulong)(uint)ctx.Step * 2 + (ulong)i) * 0x9E3779B97F4A7C15UL);
        Kernels.Dropout.Forward(fx, y, mask, (float)Config.Dropout, seed);
        return y;
    }

    private float[] DropBackward(int i, float[] dy)
    {
        if (!_dropActive[i])
        {
            return dy;
        }

        float[] dx = Ensure(ref _ddrop[i], dy.Length);
        Array.Clear(dx);
        Kernels.Dropout.Backward(dy, _mask[i], dx, (float)Config.Dropout);
        return dx;
    }

    /// <summary>s = scale·x + gate·fx into the sublayer's own buffer.</summary>
    private float[] Residual(int i, float[] x, float[] fx, float scale = 1f, float gate = 1f)
    {
        float[] s = Ensure(ref _sum[i], x.Length);
        _fx[i] = fx;
        if (scale == 1f && gate == 1f)
        {
            TensorPrimitives.Add(x, fx, s);
        }
        else
        {
            // Two roundings, as the plain loop scale·x[k] + gate·fx[k] (MultiplyAdd does not fuse).
            TensorPrimitives.Multiply(fx, gate, s);
            TensorPrimitives.MultiplyAdd(x, scale, s, s);
        }

        return s;
    }

    private static void Add(float[] dst, float[] a, float scaleA, float[] b)
    {
        if (scaleA == 1f)
        {
            TensorPrimitives.Add(a, b, dst);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(a, scaleA, b, dst);
        }
    }
}
