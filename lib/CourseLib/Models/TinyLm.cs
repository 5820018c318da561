using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Kernels;
using CourseLib.Layers;

namespace CourseLib.Models;

/// <summary>Settings of <see cref="TinyLm"/>. Defaults give a ~200k-parameter character model that trains in seconds.</summary>
public sealed record LmConfig
{
    /// <summary>V, the vocabulary (65: the distinct characters of a small English text).</summary>
    public int Vocab { get; init; } = 65;

    /// <summary>T_max, positions the model can see (64: enough for a sentence of characters).</summary>
    public int Context { get; init; } = 64;

    /// <summary>C (64).</summary>
    public int Channels { get; init; } = 64;

    /// <summary>Attention heads (4).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Blocks (4).</summary>
    public int Layers { get; init; } = 4;

    /// <summary>FFN hidden width; 0 = 4C plain, 8C/3 gated.</summary>
    public int Hidden { get; init; }

    /// <summary>FFN non-linearity (GELU: GPT's).</summary>
    public Activation Activation { get; init; } = Activation.Gelu;

    /// <summary>Norm kind (LayerNorm).</summary>
    public NormKind Norm { get; init; } = NormKind.LayerNorm;

    /// <summary>Norm placement (Pre-LN).</summary>
    public NormPlacement Placement { get; init; } = NormPlacement.PreLn;

    /// <summary>
    /// A norm after the last block; null (default) = only for Pre-LN and Peri-LN, whose residual stream is not
    /// normalized otherwise (Post-LN and DeepNorm already end in a norm; ReZero and None have none by design).
    /// </summary>
    public bool? FinalNorm { get; init; }

    /// <summary>Weight initialization of the linear layers (PyTorch's default; Xavier for the Transformer's).</summary>
    public InitScheme Init { get; init; } = InitScheme.PyTorchDefault;

    /// <summary>
    /// Standard deviation of the initial embeddings; null (default) = 1 for PyTorch's default and Xavier (nn.Embedding's
    /// N(0, 1), and the original Transformer's N(0, 1/C)·√C), 0.02 for <see cref="InitScheme.Normal002"/> (GPT-2).
    /// </summary>
    public double? EmbeddingStd { get; init; }

    /// <summary>The embedding standard deviation in force.</summary>
    public double ResolvedEmbeddingStd => EmbeddingStd ?? (Init == InitScheme.Normal002 ? 0.02 : 1.0);

    /// <summary>Experts per FFN; 0 = dense.</summary>
    public int Experts { get; init; }

    /// <summary>Experts per token for MoE (1).</summary>
    public int TopK { get; init; } = 1;

    /// <summary>Residual dropout in every block, training mode only (0: see <see cref="BlockConfig.Dropout"/>).</summary>
    public double Dropout { get; init; }

    /// <summary>MoE capacity factor (1.25: Switch Transformer).</summary>
    public double CapacityFactor { get; init; } = 1.25;

    /// <summary>MoE load-balancing weight α (0.01: Switch Transformer).</summary>
    public double AuxLossWeight { get; init; } = 0.01;

    /// <summary>Seed of every initial weight.</summary>
    public int Seed { get; init; }

    /// <summary>Whether a final norm is used, resolving the null default.</summary>
    public bool UsesFinalNorm => FinalNorm ?? Placement is NormPlacement.PreLn or NormPlacement.PeriLn;

    /// <summary>The block settings this model uses (DeepNorm's α and β from the depth).</summary>
    public BlockConfig Block
    {
        get
        {
            var (alpha, beta) = Placement == NormPlacement.DeepNorm ? TransformerBlock.DeepNormConstants(Layers) : (1.0, 1.0);
            return new BlockConfig
            {
                Channels = Channels, Heads = Heads, Hidden = Hidden, Activation = Activation, Norm = Norm, Placement = Placement,
                Init = Init, Experts = Experts, TopK = TopK, CapacityFactor = CapacityFactor, AuxLossWeight = AuxLossWeight, Dropout = Dropout, DeepNormAlpha = alpha, DeepNormBeta = beta,
            };
        }
    }
}

/// <summary>
/// A tiny decoder-only language model: x = E_tok[tokens] + E_pos; x = block(x) for each block; x = LN(x) (optional);
/// logits = x·W_headᵀ; loss = mean cross-entropy over scored positions (+ MoE load-balancing losses).
/// Parameters: (V + T_max)·C + L·(12C² + 13C) + [2C] + V·C for dense LayerNorm blocks with biases.
/// </summary>
public sealed class TinyLm : Model
{
    private readonly TransformerBlock[] _blocks;
    private float[]? _probs, _dlogits;
    private float[] _logits = [];
    private int[] _labels = [];
    private ForwardContext _ctx;

    /// <summary>A model with weights drawn from <see cref="LmConfig.Seed"/>.</summary>
    public TinyLm(LmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var rng = new Rng(config.Seed);
        Embed = AddModule("embed", new Embedding(config.Vocab, config.Context, config.Channels, rng, config.ResolvedEmbeddingStd));
        BlockConfig block = config.Block;
        _blocks = new TransformerBlock[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            _blocks[l] = AddModule($"blocks.{l}", new TransformerBlock(block, rng));
        }

        if (config.UsesFinalNorm)
        {
            FinalNorm = AddModule("norm", NormLayer.Create(config.Norm, config.Channels));
        }

        Head = AddModule("head", new LinearLayer(config.Channels, config.Vocab, rng, config.Init, bias: false));
    }

    /// <summary>The settings.</summary>
    public LmConfig Config { get; }

    /// <summary>Token and position embeddings.</summary>
    public Embedding Embed { get; }

    /// <summary>The blocks, first to last.</summary>
    public IReadOnlyList<TransformerBlock> Blocks => _blocks;

    /// <summary>The final norm, or null.</summary>
    public NormLayer? FinalNorm { get; }

    /// <summary>The output projection [V, C].</summary>
    public LinearLayer Head { get; }

    /// <inheritdoc />
    public override float[] Output => _logits;

    /// <summary>Cross-entropy part of the last loss (without MoE auxiliary losses).</summary>
    public float LastCrossEntropy { get; private set; }

    /// <inheritdoc />
    public override float Forward(Batch batch, bool training = true, int step = 0)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Tokens is null || batch.Labels is null)
        {
            throw new ArgumentException("TinyLm needs a token batch (Batch.ForTokens) with Tokens and Labels.", nameof(batch));
        }

        _ctx = new ForwardContext(batch.Size, batch.Time, training, step);
        float[] x = Embed.Forward(batch.Tokens, _ctx);
        foreach (TransformerBlock block in _blocks)
        {
            x = block.Forward(x, _ctx);
        }

        if (FinalNorm is not null)
        {
            x = FinalNorm.Forward(x, _ctx);
        }

        _logits = Head.Forward(x, _ctx);
        _labels = batch.Labels;
        float[] probs = _probs is { } p && p.Length == _logits.Length ? p : (_probs = new float[_logits.Length]);
        LastCrossEntropy = SoftmaxCrossEntropy.Forward(_logits, _labels, probs, _ctx.Rows, Config.Vocab);
        double aux = 0;
        foreach (TransformerBlock block in _blocks)
        {
            aux += block.AuxLoss;
        }
        return (float)(LastCrossEntropy + aux);
    }

    /// <inheritdoc />
    public override void Backward()
    {
        if (_probs is null)
        {
            throw new InvalidOperationException("TinyLm.Backward was called before Forward.");
        }

        float[] dlogits = _dlogits is { } d && d.Length == _logits.Length ? d : (_dlogits = new float[_logits.Length]);
        Array.Clear(dlogits);
        SoftmaxCrossEntropy.Backward(_probs, _labels, dlogits, _ctx.Rows, Config.Vocab);
        float[] dx = Head.Backward(dlogits);
        if (FinalNorm is not null)
        {
            dx = FinalNorm.Backward(dx);
        }

        for (int l = _blocks.Length - 1; l >= 0; l--)
        {
            dx = _blocks[l].Backward(dx);
        }

        Embed.Backward(dx);
    }

    /// <inheritdoc />
    public override IReadOnlyList<double> ResidualStreamRms() => _blocks.Select(b => b.LastOutput is { } y ? Rms(y) : double.NaN).ToArray();

    /// <summary>Predicted next-token probabilities of the last forward pass, [N, V].</summary>
    public ReadOnlySpan<float> Probabilities => _probs;

    /// <summary>
    /// Samples <paramref name="count"/> tokens after <paramref name="prompt"/> (temperature 1, or greedy when
    /// <paramref name="greedy"/>), feeding back at most <see cref="LmConfig.Context"/> tokens.
    /// </summary>
    public int[] Generate(IReadOnlyList<int> prompt, int count, Rng rng, bool greedy = false)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(rng);
        if (prompt.Count == 0)
        {
            throw new ArgumentException("The prompt needs at least one token.", nameof(prompt));
        }

        var seq = new List<int>(prompt);
        var output = new int[count];
        for (int i = 0; i < count; i++)
        {
            int[] window = seq.Skip(Math.Max(0, seq.Count - Config.Context)).ToArray();
            var ignore = Enumerable.Repeat(-1, window.Length).ToArray();
            ignore[^1] = 0;
            Forward(Batch.ForTokens(1, window.Length, window, ignore), training: false);
            ReadOnlySpan<float> last = Probabilities.Slice((window.Length - 1) * Config.Vocab, Config.Vocab);
            int next = 0;
            if (greedy)
            {
                for (int v = 1; v < last.Length; v++)
                {
                    next = last[v] > last[next] ? v : next;
                }
            }
            else
            {
                double u = rng.NextDouble(), acc = 0;
                next = last.Length - 1;
                for (int v = 0; v < last.Length; v++)
                {
                    acc += last[v];
                    if (u < acc)
                    {
                        next = v;
                        break;
                    }
                }
            }

            output[i] = next;
            seq.Add(next);
        }

        return output;
    }
}
