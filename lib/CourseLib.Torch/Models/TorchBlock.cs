using CourseLib.Data;
using CourseLib.Layers;
using static TorchSharp.torch;

namespace CourseLib.Torch.Models;

/// <summary>
/// Twin of <see cref="TransformerBlock"/>: the same six norm placements, causal attention written out
/// (q·kᵀ/√d, mask, softmax, ·v), FFN plain or gated. Dense FFNs with LayerNorm, RMSNorm or DyT only.
/// </summary>
public sealed class TorchBlock : TorchTwin
{
    private readonly BlockConfig _config;

    /// <summary>A twin of <paramref name="block"/> with its current weights.</summary>
    public TorchBlock(TransformerBlock block)
        : base(block)
    {
        ArgumentNullException.ThrowIfNull(block);
        TorchLm.CheckSupported(block.Config);
        _config = block.Config;
    }

    /// <summary>The block's output for x: [B, T, C].</summary>
    public Tensor Forward(Tensor x) => Block(x, "", _config);

    /// <summary>Not available: a block has no loss of its own; call <see cref="Forward"/>.</summary>
    public override Tensor Loss(Batch batch, bool training = true) => throw new NotSupportedException("A block has no loss; call Forward.");
}
