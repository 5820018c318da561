using CourseLib.Data;
using CourseLib.Layers;
using CourseLib.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Torch.Models;

/// <summary>Twin of <see cref="TinyLm"/>: embeddings, blocks, optional final norm, head, mean cross-entropy (ignore index −1).</summary>
public sealed class TorchLm : TorchTwin
{
    private readonly LmConfig _config;

    /// <summary>A twin of <paramref name="model"/> with its current weights.</summary>
    public TorchLm(TinyLm model)
        : base(model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckSupported(model.Config.Block);
        _config = model.Config;
    }

    /// <summary>Logits [B, T, V] for tokens [B, T].</summary>
    public Tensor Logits(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using Tensor ids = torch.tensor(batch.Tokens ?? throw new ArgumentException("A token batch is needed.", nameof(batch)), [batch.Size, batch.Time], ScalarType.Int64);
        using Tensor pos = torch.arange(batch.Time, ScalarType.Int64);
        Tensor x = this["embed.token"].index_select(0, ids.view(-1)).view(batch.Size, batch.Time, -1) + this["embed.position"].index_select(0, pos);
        BlockConfig block = _config.Block;
        for (int l = 0; l < _config.Layers; l++)
        {
            x = Block(x, $"blocks.{l}.", block);
        }

        if (_config.UsesFinalNorm)
        {
            x = Norm(x, _config.Norm, "norm.", null, true);
        }

        return Linear(x, "head.");
    }

    /// <inheritdoc />
    public override Tensor Loss(Batch batch, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Tensor logits = Logits(batch);
        using Tensor targets = torch.tensor(batch.Labels!, [batch.Rows], ScalarType.Int64);
        return nn.functional.cross_entropy(logits.view(batch.Rows, -1), targets, ignore_index: -1);
    }

    internal static void CheckSupported(BlockConfig config)
    {
        if (config.Experts > 0)
        {
            throw new NotSupportedException("MoE blocks have no TorchSharp twin (routing is not twinned).");
        }

        if (config.Dropout > 0)
        {
            throw new NotSupportedException("Dropout masks are not twinned; compare with Dropout = 0.");
        }

        if (config.Norm == NormKind.BatchNorm)
        {
            throw new NotSupportedException("The transformer twins support LayerNorm, RMSNorm and DyT; BatchNorm is twinned in TorchMlp.");
        }
    }
}

/// <summary>Twin of <see cref="DeepMlp"/>, BatchNorm's running statistics included.</summary>
public sealed class TorchMlp : TorchTwin
{
    private readonly MlpConfig _config;
    private readonly BatchNormState?[] _bn;

    /// <summary>A twin of <paramref name="model"/> with its current weights and running statistics.</summary>
    public TorchMlp(DeepMlp model)
        : base(model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _config = model.Config;
        _bn = model.NamedModules().Where(m => m.Module is BatchNormLayer).Select(m => (BatchNormState?)new BatchNormState((BatchNormLayer)m.Module)).ToArray();
        if (_bn.Length == 0)
        {
            _bn = new BatchNormState?[_config.Depth - 1];
        }
    }

    /// <summary>Outputs [B, classes or outputs] for inputs [B, features].</summary>
    public Tensor Output(Batch batch, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Tensor x = TorchInterop.ToTensor(batch.Inputs ?? throw new ArgumentException("A vector batch is needed.", nameof(batch)), [batch.Size, batch.Features]);
        for (int l = 0; l < _config.Depth - 1; l++)
        {
            string p = $"layers.{l}.";
            Tensor h = Linear(x, p + "linear.");
            if (_config.Norm is NormKind kind)
            {
                h = Norm(h, kind, p + "norm.", _bn[l], training);
            }

            bool residual = l > 0 && _config.Residual;
            x = residual && _config.ActivationAfterAdd ? Activate(S(_config.ShortcutScale) * x + h, _config.Activation)   // act(s·x + Norm(W·x))
                : residual && _config.ReZero ? S(_config.ShortcutScale) * x + this[p + "rezero"] * Activate(h, _config.Activation)  // s·x + α·act(Norm(W·x))
                : residual ? S(_config.ShortcutScale) * x + Activate(h, _config.Activation)                                  // s·x + act(Norm(W·x))
                : Activate(h, _config.Activation);                                                                         // act(Norm(W·x))
        }

        return Linear(x, "head.");
    }

    /// <inheritdoc />
    public override Tensor Loss(Batch batch, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Tensor y = Output(batch, training);
        if (_config.Classes > 0)
        {
            using Tensor targets = torch.tensor(batch.Labels!, [batch.Size], ScalarType.Int64);
            return nn.functional.cross_entropy(y, targets);
        }

        using Tensor values = TorchInterop.ToTensor(batch.Values!, [batch.Size, batch.Outputs]);
        return nn.functional.mse_loss(y, values);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var s in _bn)
            {
                s?.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
