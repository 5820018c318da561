using CourseLib.Data;
using CourseLib.Layers;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace CourseLib.Torch.Models;

/// <summary>
/// The libtorch twin of a CourseLib model: the same equations written with TorchSharp tensors and autograd, holding
/// one libtorch parameter per CourseLib parameter under the same hierarchical name, so weights copy across by name
/// (<see cref="CopyFrom"/>, <see cref="CopyTo"/>). Checks run the same batch through both and compare outputs,
/// losses, gradients and whole training curves.
/// </summary>
public abstract class TorchTwin : IDisposable
{
    private readonly Dictionary<string, TorchParameter> _parameters = [];
    private readonly List<string> _order = [];
    private bool _disposed;

    /// <summary>Creates a parameter for every parameter of <paramref name="source"/>, with a copy of its values.</summary>
    protected TorchTwin(Module source)
    {
        ArgumentNullException.ThrowIfNull(source);
        TorchRuntime.Initialize();
        foreach (var (name, p) in source.NamedParameters())
        {
            long[] shape = p.Shape.Select(d => (long)d).ToArray();
            using Tensor t = TorchInterop.ToTensor(p.Data, shape);
            _parameters[name] = new TorchParameter(t.clone(), requires_grad: true);
            _order.Add(name);
        }
    }

    /// <summary>The twin's parameters in the CourseLib model's order (hand them to a torch.optim optimizer).</summary>
    public IEnumerable<TorchParameter> Parameters() => _order.Select(n => _parameters[n]);

    /// <summary>A constant of the equations as a libtorch scalar that outlives the call (see <see cref="TorchConstants"/>).</summary>
    protected static Scalar S(double value) => TorchConstants.Of(value);

    /// <summary>The parameter named <paramref name="name"/> (the CourseLib name, e.g. "blocks.0.attn.qkv.weight").</summary>
    public TorchParameter this[string name] => _parameters.TryGetValue(name, out var p)
        ? p
        : throw new KeyNotFoundException($"The twin has no parameter '{name}'.");

    /// <summary>Overwrites the twin's weights with <paramref name="source"/>'s (same architecture).</summary>
    public void CopyFrom(Module source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in source.NamedParameters())
        {
            TorchParameter t = this[name];
            using Tensor v = TorchInterop.ToTensor(p.Data, t.shape);
            t.copy_(v);
        }
    }

    /// <summary>Overwrites <paramref name="target"/>'s weights with the twin's.</summary>
    public void CopyTo(Module target)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var (name, p) in target.NamedParameters())
        {
            TorchInterop.ToArray(this[name]).CopyTo(p.Data, 0);
        }
    }

    /// <summary>The gradient of parameter <paramref name="name"/> after <c>loss.backward()</c>, as float[].</summary>
    public float[] Gradient(string name) => this[name].grad is { } g ? TorchInterop.ToArray(g) : new float[this[name].numel()];

    /// <summary>The loss of <paramref name="batch"/> as a scalar tensor that autograd can differentiate.</summary>
    public abstract Tensor Loss(Batch batch, bool training = true);

    /// <summary>y = x·Wᵀ + b with the parameters "<paramref name="prefix"/>weight" and (if present) "…bias".</summary>
    protected Tensor Linear(Tensor x, string prefix) =>
        nn.functional.linear(x, this[prefix + "weight"], _parameters.TryGetValue(prefix + "bias", out var b) ? b : null);

    /// <summary>Whether the twin has a parameter named <paramref name="name"/>.</summary>
    protected bool Has(string name) => _parameters.ContainsKey(name);

    /// <summary>The norm of <paramref name="kind"/> over the last axis of <paramref name="x"/> [N, C] with the parameters under <paramref name="prefix"/>.</summary>
    protected Tensor Norm(Tensor x, NormKind kind, string prefix, BatchNormState? state, bool training)
    {
        ArgumentNullException.ThrowIfNull(x);
        long c = x.shape[^1];
        switch (kind)
        {
            case NormKind.LayerNorm:
                return nn.functional.layer_norm(x, [c], this[prefix + "weight"], this[prefix + "bias"], 1e-5);
            case NormKind.RmsNorm:
                return x * torch.rsqrt(x.pow(S(2)).mean([-1L], keepdim: true) + S(1e-6)) * this[prefix + "weight"];
            case NormKind.Dyt:
                return torch.tanh(this[prefix + "alpha"] * x) * this[prefix + "weight"] + this[prefix + "bias"];
            case NormKind.BatchNorm:
                if (state is null)
                {
                    throw new ArgumentNullException(nameof(state), "BatchNorm needs running statistics.");
                }

                return nn.functional.batch_norm(x.reshape(-1, c), state.Mean, state.Var, this[prefix + "weight"], this[prefix + "bias"], training, 0.1, 1e-5).reshape(x.shape);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown norm.");
        }
    }

    /// <summary>The element-wise or gated non-linearity, written as its formula.</summary>
    protected static Tensor Activate(Tensor h, Activation activation)
    {
        ArgumentNullException.ThrowIfNull(h);
        switch (activation)
        {
            case Activation.Relu:
                return nn.functional.relu(h);
            case Activation.Gelu:
                return S(0.5) * h * (S(1) + torch.erf(h / S(Math.Sqrt(2))));
            case Activation.GeluTanh:
                return S(0.5) * h * (S(1) + torch.tanh(S(Math.Sqrt(2 / Math.PI)) * (h + (S(0.044715) * h.pow(S(3))))));
            case Activation.Silu:
                return nn.functional.silu(h);
            default:
                // h = [gate | value] along the last axis.
                Tensor[] parts = h.chunk(2, -1);
                Tensor gate = activation switch
                {
                    Activation.ReGlu => Activate(parts[0], Activation.Relu),
                    Activation.GeGlu => Activate(parts[0], Activation.Gelu),
                    Activation.Glu => torch.sigmoid(parts[0]),
                    _ => Activate(parts[0], Activation.Silu),
                };
                return gate * parts[1];
        }
    }

    /// <summary>Causal multi-head self-attention on x: [B, T, C] with the parameters under <paramref name="prefix"/>.</summary>
    protected Tensor Attention(Tensor x, string prefix, int heads)
    {
        ArgumentNullException.ThrowIfNull(x);
        long b = x.shape[0], t = x.shape[1], c = x.shape[2], d = c / heads;
        Tensor[] qkv = Linear(x, prefix + "qkv.").chunk(3, -1);
        Tensor Heads(Tensor z) => z.view(b, t, heads, d).transpose(1, 2);           // [B, H, T, d]
        Tensor q = Heads(qkv[0]), k = Heads(qkv[1]), v = Heads(qkv[2]);
        Tensor scores = q.matmul(k.transpose(-2, -1)) / S(Math.Sqrt(d));            // [B, H, T, T]
        using Tensor mask = torch.ones(t, t, dtype: ScalarType.Bool).triu(1);
        Tensor att = torch.softmax(scores.masked_fill(mask, S(double.NegativeInfinity)), -1);
        Tensor o = att.matmul(v).transpose(1, 2).contiguous().view(b, t, c);
        return Linear(o, prefix + "proj.");
    }

    /// <summary>The feed-forward network on x with the parameters under <paramref name="prefix"/>.</summary>
    protected Tensor FeedForward(Tensor x, string prefix, Activation activation) =>
        Linear(Activate(Linear(x, prefix + "up."), activation), prefix + "down.");

    /// <summary>
    /// One transformer block (<see cref="TransformerBlock"/>'s equations) on x: [B, T, C], parameters under
    /// <paramref name="p"/> ("blocks.3." or "" for a lone block).
    /// </summary>
    protected Tensor Block(Tensor x, string p, BlockConfig cfg)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        Tensor F(int i, Tensor h) => i == 0 ? Attention(h, p + "attn.", cfg.Heads) : FeedForward(h, p + "ffn.", cfg.Activation);
        Tensor N(string name, Tensor h) => Norm(h, cfg.Norm, p + name + ".", null, true);
        for (int i = 0; i < 2; i++)
        {
            string n = i == 0 ? "norm1" : "norm2";
            x = cfg.Placement switch
            {
                NormPlacement.PostLn => N(n, x + F(i, x)),                                     // LN(x + F(x))
                NormPlacement.PreLn => x + F(i, N(n, x)),                                      // x + F(LN(x))
                NormPlacement.PeriLn => x + N(n + "_out", F(i, N(n, x))),                      // x + LN(F(LN(x)))
                NormPlacement.DeepNorm => N(n, (S(cfg.DeepNormAlpha) * x) + F(i, x)),         // LN(α·x + F(x))
                NormPlacement.ReZero => x + this[p + (i == 0 ? "rezero_attn" : "rezero_ffn")] * F(i, x), // x + α·F(x)
                _ => x + F(i, x),                                                               // x + F(x)
            };
        }

        return x;
    }

    /// <summary>Releases the libtorch tensors.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the libtorch tensors.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            foreach (var p in _parameters.Values)
            {
                p.Dispose();
            }
        }

        _disposed = true;
    }
}

/// <summary>A BatchNorm layer's running statistics, copied from the CourseLib layer and updated by libtorch in training mode.</summary>
public sealed class BatchNormState : IDisposable
{
    /// <summary>Copies the running statistics of <paramref name="layer"/>.</summary>
    public BatchNormState(BatchNormLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Mean = TorchInterop.ToTensor(layer.RunningMean, [layer.Channels]);
        Var = TorchInterop.ToTensor(layer.RunningVar, [layer.Channels]);
    }

    /// <summary>Running mean.</summary>
    public Tensor Mean { get; }

    /// <summary>Running variance.</summary>
    public Tensor Var { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        Var.Dispose();
    }
}
