using System.Numerics.Tensors;
using CourseLib.Init;

namespace CourseLib.Layers;

/// <summary>
/// Token plus learned position embeddings: x[b, t] = E_tok[token[b, t]] + E_pos[t]. Tables: [V, C] and [T_max, C].
/// Initialized N(0, std²): 0.02 as GPT-2, or 1 as PyTorch's nn.Embedding and, in effect, the original Transformer
/// (N(0, 1/C) scaled by √C).
/// </summary>
public sealed class Embedding : Module
{
    private float[]? _x;
    private int[] _tokens = [];
    private ForwardContext _ctx;

    /// <summary>Embeddings for <paramref name="vocab"/> tokens and <paramref name="context"/> positions of width <paramref name="channels"/>.</summary>
    /// <param name="vocab">V.</param>
    /// <param name="context">T_max.</param>
    /// <param name="channels">C.</param>
    /// <param name="rng">Source of the initial values.</param>
    /// <param name="std">Standard deviation of the initial values.</param>
    public Embedding(int vocab, int context, int channels, Rng rng, double std = 0.02)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Vocab = vocab;
        Context = context;
        Channels = channels;
        Token = AddParameter("token", [vocab, channels]);
        Position = AddParameter("position", [context, channels]);
        rng.FillNormal(Token.Data, std);
        rng.FillNormal(Position.Data, std);
    }

    /// <summary>V.</summary>
    public int Vocab { get; }

    /// <summary>T_max.</summary>
    public int Context { get; }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>E_tok: [V, C].</summary>
    public Parameter Token { get; }

    /// <summary>E_pos: [T_max, C].</summary>
    public Parameter Position { get; }

    /// <summary>The embedded batch [B·T, C] (an embedding-owned buffer).</summary>
    public float[] Forward(int[] tokens, ForwardContext ctx)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Length != ctx.Rows)
        {
            throw new ArgumentException($"tokens has {tokens.Length} elements but B·T = {ctx.Batch}·{ctx.Time} = {ctx.Rows} were expected.", nameof(tokens));
        }

        if (ctx.Time > Context)
        {
            throw new ArgumentException($"Sequence length T = {ctx.Time} exceeds the model's context of {Context} positions.", nameof(ctx));
        }

        int c = Channels;
        float[] x = _x is { } buf && buf.Length == ctx.Rows * c ? buf : (_x = new float[ctx.Rows * c]);
        for (int r = 0; r < ctx.Rows; r++)
        {
            int id = tokens[r], t = r % ctx.Time;
            if ((uint)id >= (uint)Vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"Token id {id} at row {r} is outside the vocabulary [0, {Vocab}).");
            }

            var dst = x.AsSpan(r * c, c);
            var tok = Token.Data.AsSpan(id * c, c);
            var pos = Position.Data.AsSpan(t * c, c);
            TensorPrimitives.Add(tok, pos, dst);
        }

        _tokens = tokens;
        _ctx = ctx;
        return x;
    }

    /// <summary>Accumulates dE_tok and dE_pos from dx = dLoss/dx of the last forward pass.</summary>
    public void Backward(float[] dx)
    {
        ArgumentNullException.ThrowIfNull(dx);
        if (dx.Length != _ctx.Rows * Channels)
        {
            throw new ArgumentException($"dx has {dx.Length} elements but N·C = {_ctx.Rows}·{Channels} were expected.", nameof(dx));
        }

        int c = Channels;
        for (int r = 0; r < _ctx.Rows; r++)
        {
            var g = dx.AsSpan(r * c, c);
            var dt = Token.Grad.AsSpan(_tokens[r] * c, c);
            var dp = Position.Grad.AsSpan(r % _ctx.Time * c, c);
            TensorPrimitives.Add(dt, g, dt);
            TensorPrimitives.Add(dp, g, dp);
        }
    }
}
