using CourseLib.Data;
using CourseLib.Layers;

namespace CourseLib.Models;

/// <summary>
/// A trainable model: a forward pass from a <see cref="Batch"/> to a scalar loss, and a backward pass from that loss
/// into every parameter's gradient. The trainer, the optimizers and checkpoints need nothing else.
/// </summary>
public abstract class Model : Module
{
    /// <summary>Runs the model on <paramref name="batch"/> and returns the mean loss (caches what <see cref="Backward"/> needs).</summary>
    /// <param name="batch">Inputs and targets.</param>
    /// <param name="training">Training mode (batch statistics, dropout) or evaluation mode.</param>
    /// <param name="step">Training step, for per-step dropout seeds.</param>
    public abstract float Forward(Batch batch, bool training = true, int step = 0);

    /// <summary>Accumulates dLoss/dθ of the last <see cref="Forward"/> into every parameter's gradient.</summary>
    public abstract void Backward();

    /// <summary>The model's output of the last forward pass: logits [N, classes] or predictions [N, outputs].</summary>
    public abstract float[] Output { get; }

    /// <summary>
    /// Root-mean-square of the residual stream after each block of the last forward pass (empty for models without
    /// blocks). Pre-LN's grows with depth; Post-LN's stays near 1.
    /// </summary>
    public virtual IReadOnlyList<double> ResidualStreamRms() => [];

    /// <summary>
    /// The "layer" a parameter belongs to, for per-layer gradient norms: "blocks.3" for "blocks.3.ffn.up.weight",
    /// otherwise the first path segment ("embed", "head", "norm").
    /// </summary>
    public virtual string LayerOf(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        string[] parts = parameterName.Split('.');
        return parts.Length >= 3 && int.TryParse(parts[1], out _) ? parts[0] + "." + parts[1] : parts[0];
    }

    /// <summary>RMS of a buffer, in double.</summary>
    protected static double Rms(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
        {
            return 0;
        }

        double s = 0;
        foreach (float v in x)
        {
            s += (double)v * v;
        }

        return Math.Sqrt(s / x.Length);
    }
}
