using CourseLib.Init;
using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>
/// Causal multi-head self-attention: qkv = x·W_qkvᵀ + b; out = Attention(qkv) per head; y = out·W_projᵀ + b.
/// x, y: [B·T, C]. Parameters: 4C² + 4C. Forward FLOPs: 8·N·C² (projections) + 4·B·T²·C (scores and weighted sum,
/// counted over the full T×T square).
/// </summary>
public sealed class CausalSelfAttention : Layer
{
    private float[]? _out;
    private float[]? _att;
    private float[]? _dqkv;
    private float[] _qkv = [];
    private ForwardContext _ctx;

    /// <summary>Attention over <paramref name="channels"/> = heads·d.</summary>
    /// <param name="channels">C.</param>
    /// <param name="heads">H; must divide C.</param>
    /// <param name="rng">Source of initial weights.</param>
    /// <param name="init">Initialization of both projections.</param>
    /// <param name="valueGain">Scales the initial value rows of W_qkv (DeepNorm's β; 1 otherwise).</param>
    /// <param name="projectionGain">Scales the initial output projection (DeepNorm's β, GPT-2's 1/√(2L); 1 otherwise).</param>
    public CausalSelfAttention(int channels, int heads, Rng rng, InitScheme init = InitScheme.PyTorchDefault, double valueGain = 1.0, double projectionGain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (channels % heads != 0)
        {
            throw new ArgumentException($"channels = {channels} is not divisible by heads = {heads}.", nameof(heads));
        }

        Channels = channels;
        Heads = heads;
        Qkv = AddModule("qkv", new LinearLayer(channels, 3 * channels, rng, init));
        Projection = AddModule("proj", new LinearLayer(channels, channels, rng, init, gain: projectionGain));
        if (valueGain != 1.0)
        {
            // W_qkv rows [2C, 3C) produce v; DeepNorm scales v's and the output projection's init, not q's or k's.
            foreach (ref float w in Qkv.Weight.Data.AsSpan(2 * channels * channels))
            {
                w *= (float)valueGain;
            }
        }
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>H.</summary>
    public int Heads { get; }

    /// <summary>The fused q, k, v projection, [3C, C].</summary>
    public LinearLayer Qkv { get; }

    /// <summary>The output projection, [C, C].</summary>
    public LinearLayer Projection { get; }

    /// <inheritdoc />
    public override int InputSize => Channels;

    /// <inheritdoc />
    public override int OutputSize => Channels;

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _ctx = ctx;
        _qkv = Qkv.Forward(x, ctx);
        float[] o = Ensure(ref _out, ctx.Rows * Channels);
        float[] att = Ensure(ref _att, ctx.Batch * Heads * ctx.Time * ctx.Time);
        Attention.Forward(_qkv, o, att, ctx.Batch, ctx.Time, Channels, Heads);
        LastOutput = Projection.Forward(o, ctx);
        return LastOutput;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _ctx.Rows, Channels);
        float[] dout = Projection.Backward(dy);
        float[] dqkv = Ensure(ref _dqkv, _ctx.Rows * 3 * Channels);
        Attention.BackwardOverwriting(dout, _qkv, _att!, dqkv, _ctx.Batch, _ctx.Time, Channels, Heads);
        return Qkv.Backward(dqkv);
    }

    /// <inheritdoc />
    public override long ForwardFlops(ForwardContext ctx) => base.ForwardFlops(ctx) + 4L * ctx.Batch * ctx.Time * ctx.Time * Channels;
}
