using CourseLib.Init;
using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>
/// y = x·Wᵀ + b with W: [out, in] (PyTorch's nn.Linear layout), on the <see cref="Linear"/> kernel.
/// Parameters: in·out + out (with bias). Forward FLOPs: 2·N·in·out.
/// </summary>
public sealed class LinearLayer : Layer
{
    private float[]? _y;
    private float[]? _dx;
    private float[] _x = [];
    private int _rows;

    /// <summary>A linear layer initialized by <paramref name="init"/>, weights scaled by <paramref name="gain"/>.</summary>
    /// <param name="inFeatures">I.</param>
    /// <param name="outFeatures">O.</param>
    /// <param name="rng">Source of the initial weights.</param>
    /// <param name="init">Initialization scheme (PyTorch's default unless the model says otherwise).</param>
    /// <param name="bias">Whether to add a bias.</param>
    /// <param name="gain">Multiplies the initial weights (scaled initializations, e.g. DeepNorm's β).</param>
    public LinearLayer(int inFeatures, int outFeatures, Rng rng, InitScheme init = InitScheme.PyTorchDefault, bool bias = true, double gain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InputSize = inFeatures;
        OutputSize = outFeatures;
        Weight = AddParameter("weight", [outFeatures, inFeatures]);
        Initializers.Weight(Weight.Data, inFeatures, outFeatures, init, rng, gain);
        if (bias)
        {
            Bias = AddParameter("bias", [outFeatures], decay: false);
            Initializers.Bias(Bias.Data, inFeatures, init, rng);
        }
    }

    /// <inheritdoc />
    public override int InputSize { get; }

    /// <inheritdoc />
    public override int OutputSize { get; }

    /// <summary>W: [out, in].</summary>
    public Parameter Weight { get; }

    /// <summary>b: [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        float[] y = Ensure(ref _y, _rows * OutputSize);
        Linear.Forward(x, Weight.Data, Bias is null ? [] : Bias.Data, y, _rows, InputSize, OutputSize);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, OutputSize);
        float[] dx = Ensure(ref _dx, _rows * InputSize);
        // dW after ZeroGrad is written, not added to zeros (see Parameter.ZeroGrad); dx is always written.
        float[] dw = Weight.GradForWrite(out bool overwriteDw);
        Linear.BackwardInto(dy, _x, Weight.Data, dx, dw, Bias is null ? [] : Bias.Grad, _rows, InputSize, OutputSize, accumulateDx: false, accumulateDw: !overwriteDw);
        return dx;
    }

    /// <inheritdoc />
    public override long ForwardFlops(ForwardContext ctx) => 2L * ctx.Rows * InputSize * OutputSize;
}
