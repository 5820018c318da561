using CourseLib.Init;
using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>
/// A mixture-of-experts feed-forward layer (Shazeer et al. 2017; Switch Transformer, Fedus et al. 2021).
/// A router p = softmax(x·W_rᵀ) picks each token's top-k experts; each expert takes at most
/// capacity = ⌈capacityFactor·N·k/E⌉ tokens (later ones are dropped: that expert contributes nothing for them,
/// the block's residual carries them through); y = Σ_{kept e} p_e·FFN_e(x).
/// The Switch load-balancing loss α·E·Σ_e f_e·P_e (f_e: fraction of routed assignments to e, P_e: mean router
/// probability of e) equals α under uniform routing; it is reported in <see cref="AuxLoss"/> and its gradient is
/// included in <see cref="Backward"/>.
/// </summary>
public sealed class MoeFeedForward : Layer
{
    private readonly FeedForward[] _experts;
    private float[]? _probs, _dprobs, _dlogits, _y, _dx;
    private float[] _x = [];
    private int _rows;
    private readonly List<int>[] _tokensOf;
    private float[][] _gathered = [];
    private float[] _fraction = [];
    private int[] _chosen = [];
    private float[]? _chosenGates;

    /// <summary>An MoE layer of <paramref name="experts"/> FFNs of width <paramref name="channels"/>.</summary>
    /// <param name="channels">C.</param>
    /// <param name="experts">E.</param>
    /// <param name="topK">k experts per token (1 = Switch).</param>
    /// <param name="activation">Each expert's non-linearity.</param>
    /// <param name="rng">Source of initial weights.</param>
    /// <param name="hidden">Each expert's H (0 = the FFN default).</param>
    /// <param name="capacityFactor">Capacity factor (1.25, the Switch Transformer's training value).</param>
    /// <param name="auxLossWeight">α of the load-balancing loss (0.01, the Switch Transformer's value).</param>
    /// <param name="init">Initialization of router and experts.</param>
    public MoeFeedForward(int channels, int experts, int topK, Activation activation, Rng rng, int hidden = 0,
        double capacityFactor = 1.25, double auxLossWeight = 0.01, InitScheme init = InitScheme.PyTorchDefault)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(experts, 1);
        if (topK < 1 || topK > experts)
        {
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be in [1, experts = {experts}].");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacityFactor);
        Channels = channels;
        ExpertCount = experts;
        TopK = topK;
        CapacityFactor = capacityFactor;
        AuxLossWeight = auxLossWeight;
        Router = AddModule("router", new LinearLayer(channels, experts, rng, init, bias: false));
        _experts = new FeedForward[experts];
        _tokensOf = new List<int>[experts];
        for (int e = 0; e < experts; e++)
        {
            _experts[e] = AddModule($"experts.{e}", new FeedForward(channels, activation, rng, hidden, init));
            _tokensOf[e] = [];
        }
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>E.</summary>
    public int ExpertCount { get; }

    /// <summary>k.</summary>
    public int TopK { get; }

    /// <summary>Capacity factor.</summary>
    public double CapacityFactor { get; }

    /// <summary>α of the load-balancing loss.</summary>
    public double AuxLossWeight { get; }

    /// <summary>The router W_r: [E, C].</summary>
    public LinearLayer Router { get; }

    /// <summary>The experts.</summary>
    public IReadOnlyList<FeedForward> Experts => _experts;

    /// <inheritdoc />
    public override int InputSize => Channels;

    /// <inheritdoc />
    public override int OutputSize => Channels;

    /// <summary>Load-balancing loss of the last forward pass (already weighted by α).</summary>
    public double AuxLoss { get; private set; }

    /// <summary>Token-expert assignments dropped for lack of capacity in the last forward pass.</summary>
    public int DroppedTokens { get; private set; }

    /// <summary>Tokens each expert processed in the last forward pass.</summary>
    public IReadOnlyList<int> ExpertLoad => _tokensOf.Select(l => l.Count).ToArray();

    /// <summary>Tokens an expert may take for <paramref name="rows"/> tokens: ⌈capacityFactor·N·k/E⌉.</summary>
    public int Capacity(int rows) => (int)Math.Ceiling(CapacityFactor * rows * TopK / ExpertCount);

    /// <summary>The Switch loss α·E·Σ f_e·P_e for given fractions f (sum 1) and mean probabilities P (sum 1).</summary>
    public static double LoadBalancingLoss(ReadOnlySpan<float> fraction, ReadOnlySpan<float> meanProbability, double alpha)
    {
        if (fraction.Length != meanProbability.Length)
        {
            throw new ArgumentException($"fraction has {fraction.Length} experts, meanProbability {meanProbability.Length}.", nameof(meanProbability));
        }

        double s = 0;
        for (int e = 0; e < fraction.Length; e++)
        {
            s += (double)fraction[e] * meanProbability[e];
        }

        return alpha * fraction.Length * s;
    }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        int n = _rows = ctx.Rows, c = Channels, ne = ExpertCount;
        float[] logits = Router.Forward(x, ctx);
        float[] p = Ensure(ref _probs, n * ne);
        Softmax.Forward(logits, p, n, ne);

        int capacity = Capacity(n);
        foreach (var list in _tokensOf)
        {
            list.Clear();
        }

        // Each token's top-k experts (MoeRouting.TopK: highest probability first, ties to the lower index), then
        // assignment in token order, first come first served, up to each expert's capacity.
        if (_chosen.Length != n * TopK)
        {
            _chosen = new int[n * TopK];
        }

        MoeRouting.TopK(p, _chosen, Ensure(ref _chosenGates, n * TopK), n, ne, TopK);
        var assigned = new int[ne];
        int dropped = 0;
        for (int i = 0; i < _chosen.Length; i++)
        {
            int expert = _chosen[i];
            assigned[expert]++;
            if (_tokensOf[expert].Count < capacity)
            {
                _tokensOf[expert].Add(i / TopK);
            }
            else
            {
                dropped++;
            }
        }

        DroppedTokens = dropped;
        _fraction = new float[ne];
        var meanP = new float[ne];
        for (int e = 0; e < ne; e++)
        {
            _fraction[e] = (float)assigned[e] / (n * TopK);
            double s = 0;
            for (int r = 0; r < n; r++)
            {
                s += p[r * ne + e];
            }

            meanP[e] = (float)(s / n);
        }

        AuxLoss = LoadBalancingLoss(_fraction, meanP, AuxLossWeight);

        float[] y = Ensure(ref _y, n * c);
        Array.Clear(y);
        if (_gathered.Length != ne)
        {
            _gathered = new float[ne][];
        }

        for (int e = 0; e < ne; e++)
        {
            var rows = _tokensOf[e];
            if (rows.Count == 0)
            {
                continue;
            }

            float[] xe = _gathered[e] = new float[rows.Count * c];
            for (int i = 0; i < rows.Count; i++)
            {
                x.AsSpan(rows[i] * c, c).CopyTo(xe.AsSpan(i * c, c));
            }

            float[] ye = _experts[e].Forward(xe, new ForwardContext(rows.Count, 1, ctx.Training, ctx.Step));
            for (int i = 0; i < rows.Count; i++)
            {
                float g = p[rows[i] * ne + e];
                var dst = y.AsSpan(rows[i] * c, c);
                var src = ye.AsSpan(i * c, c);
                for (int j = 0; j < c; j++)
                {
                    dst[j] += g * src[j];
                }
            }
        }

        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        int n = _rows, c = Channels, ne = ExpertCount;
        float[] p = _probs!;
        float[] dp = Ensure(ref _dprobs, n * ne);
        float[] dx = Ensure(ref _dx, n * c);
        Array.Clear(dx);

        // Aux loss α·E·Σ f_e·P_e with P_e = mean_n p[n, e]; f is a count, so only P carries gradient.
        for (int r = 0; r < n; r++)
        {
            for (int e = 0; e < ne; e++)
            {
                dp[r * ne + e] = (float)(AuxLossWeight * ne * _fraction[e] / n);
            }
        }

        for (int e = 0; e < ne; e++)
        {
            var rows = _tokensOf[e];
            if (rows.Count == 0)
            {
                continue;
            }

            float[] ye = _experts[e].LastOutput!;
            var dye = new float[rows.Count * c];
            for (int i = 0; i < rows.Count; i++)
            {
                int r = rows[i];
                float g = p[r * ne + e];
                var d = dy.AsSpan(r * c, c);
                var o = ye.AsSpan(i * c, c);
                double dg = 0;
                for (int j = 0; j < c; j++)
                {
                    dye[i * c + j] = g * d[j];
                    dg += (double)d[j] * o[j];
                }

                dp[r * ne + e] += (float)dg;
            }

            float[] dxe = _experts[e].Backward(dye);
            for (int i = 0; i < rows.Count; i++)
            {
                var dst = dx.AsSpan(rows[i] * c, c);
                var src = dxe.AsSpan(i * c, c);
                for (int j = 0; j < c; j++)
                {
                    dst[j] += src[j];
                }
            }
        }

        float[] dlogits = Ensure(ref _dlogits, n * ne);
        Array.Clear(dlogits);
        Softmax.Backward(dp, p, dlogits, n, ne);
        float[] dxr = Router.Backward(dlogits);
        for (int i = 0; i < dx.Length; i++)
        {
            dx[i] += dxr[i];
        }

        return dx;
    }

    /// <inheritdoc />
    public override long ForwardFlops(ForwardContext ctx)
    {
        // Router for every token, plus k experts' FFNs per token (at full capacity use).
        return Router.ForwardFlops(ctx) + TopK * _experts[0].ForwardFlops(ctx);
    }

    /// <inheritdoc />
    public override void AddDiagnostics(string path, IDictionary<string, double> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        sink[path + ".dropped_tokens"] = DroppedTokens;
        sink[path + ".aux_loss"] = AuxLoss;
    }
}
