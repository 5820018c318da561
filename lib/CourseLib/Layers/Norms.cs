using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>Which normalization a block or MLP uses.</summary>
public enum NormKind
{
    /// <summary>LayerNorm (Ba et al. 2016): per row, subtract the mean, divide by the standard deviation, then γ, β.</summary>
    LayerNorm,

    /// <summary>RMSNorm (Zhang &amp; Sennrich 2019): per row, divide by the root mean square, then γ; no centring.</summary>
    RmsNorm,

    /// <summary>BatchNorm (Ioffe &amp; Szegedy 2015): per channel over the batch; running statistics in evaluation.</summary>
    BatchNorm,

    /// <summary>Dynamic Tanh (Zhu et al. 2025): γ·tanh(α·x) + β, a normalization-free replacement.</summary>
    Dyt,
}

/// <summary>A normalization over rows of width C, with the factory blocks use to pick one.</summary>
public abstract class NormLayer : Layer
{
    /// <summary>A norm over <paramref name="channels"/>.</summary>
    protected NormLayer(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Channels = channels;
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <inheritdoc />
    public override int InputSize => Channels;

    /// <inheritdoc />
    public override int OutputSize => Channels;

    /// <summary>A fresh norm of <paramref name="kind"/> with its usual initial parameters (γ = 1, β = 0, DyT α = 0.5).</summary>
    public static NormLayer Create(NormKind kind, int channels) => kind switch
    {
        NormKind.LayerNorm => new LayerNormLayer(channels),
        NormKind.RmsNorm => new RmsNormLayer(channels),
        NormKind.BatchNorm => new BatchNormLayer(channels),
        NormKind.Dyt => new DytLayer(channels),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown norm kind."),
    };
}

/// <summary>LayerNorm over the last axis: y = (x − mean)/√(var + ε)·γ + β, on the <see cref="LayerNorm"/> kernel. Parameters: 2C.</summary>
public sealed class LayerNormLayer : NormLayer
{
    private float[]? _y, _dx, _mean, _rstd;
    private float[] _x = [];
    private int _rows;

    /// <summary>LayerNorm over <paramref name="channels"/> with γ = 1, β = 0.</summary>
    /// <param name="channels">C.</param>
    /// <param name="eps">ε (1e-5, PyTorch's default).</param>
    public LayerNormLayer(int channels, float eps = 1e-5f)
        : base(channels)
    {
        Eps = eps;
        Gamma = AddParameter("weight", [channels], decay: false);
        Beta = AddParameter("bias", [channels], decay: false);
        Array.Fill(Gamma.Data, 1f);
    }

    /// <summary>ε.</summary>
    public float Eps { get; }

    /// <summary>γ: [C].</summary>
    public Parameter Gamma { get; }

    /// <summary>β: [C].</summary>
    public Parameter Beta { get; }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        float[] y = Ensure(ref _y, x.Length);
        LayerNorm.Forward(x, Gamma.Data, Beta.Data, y, Ensure(ref _mean, _rows), Ensure(ref _rstd, _rows), _rows, Channels, Eps);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] dx = Ensure(ref _dx, dy.Length);
        Array.Clear(dx);
        LayerNorm.Backward(dy, _x, Gamma.Data, _mean!, _rstd!, dx, Gamma.Grad, Beta.Grad, _rows, Channels);
        return dx;
    }
}

/// <summary>RMSNorm: y = x/√(mean(x²) + ε)·γ, on the <see cref="RmsNorm"/> kernel. Parameters: C.</summary>
public sealed class RmsNormLayer : NormLayer
{
    private float[]? _y, _dx, _rstd;
    private float[] _x = [];
    private int _rows;

    /// <summary>RMSNorm over <paramref name="channels"/> with γ = 1.</summary>
    /// <param name="channels">C.</param>
    /// <param name="eps">ε (1e-6, as in LLaMA).</param>
    public RmsNormLayer(int channels, float eps = 1e-6f)
        : base(channels)
    {
        Eps = eps;
        Gamma = AddParameter("weight", [channels], decay: false);
        Array.Fill(Gamma.Data, 1f);
    }

    /// <summary>ε.</summary>
    public float Eps { get; }

    /// <summary>γ: [C].</summary>
    public Parameter Gamma { get; }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        float[] y = Ensure(ref _y, x.Length);
        RmsNorm.Forward(x, Gamma.Data, y, Ensure(ref _rstd, _rows), _rows, Channels, Eps);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] dx = Ensure(ref _dx, dy.Length);
        Array.Clear(dx);
        RmsNorm.Backward(dy, _x, Gamma.Data, _rstd!, dx, Gamma.Grad, _rows, Channels);
        return dx;
    }
}

/// <summary>
/// BatchNorm over the batch axis, per channel: batch statistics in training (updating the running ones with
/// momentum 0.1, as PyTorch), running statistics in evaluation. On the <see cref="BatchNorm"/> kernel. Parameters: 2C.
/// For token batches the "batch" is all B·T rows.
/// </summary>
public sealed class BatchNormLayer : NormLayer
{
    private float[]? _y, _dx;
    private readonly float[] _mean, _rstd;
    private float[] _x = [];
    private int _rows;
    private bool _training;

    /// <summary>BatchNorm over <paramref name="channels"/> with γ = 1, β = 0, running mean 0 and variance 1.</summary>
    /// <param name="channels">C.</param>
    /// <param name="momentum">Running-statistics momentum (0.1, PyTorch's default).</param>
    /// <param name="eps">ε (1e-5, PyTorch's default).</param>
    public BatchNormLayer(int channels, float momentum = 0.1f, float eps = 1e-5f)
        : base(channels)
    {
        Momentum = momentum;
        Eps = eps;
        Gamma = AddParameter("weight", [channels], decay: false);
        Beta = AddParameter("bias", [channels], decay: false);
        Array.Fill(Gamma.Data, 1f);
        RunningMean = new float[channels];
        RunningVar = new float[channels];
        Array.Fill(RunningVar, 1f);
        _mean = new float[channels];
        _rstd = new float[channels];
    }

    /// <summary>Running-statistics momentum.</summary>
    public float Momentum { get; }

    /// <summary>ε.</summary>
    public float Eps { get; }

    /// <summary>γ: [C].</summary>
    public Parameter Gamma { get; }

    /// <summary>β: [C].</summary>
    public Parameter Beta { get; }

    /// <summary>Running mean used in evaluation (a buffer, not trained).</summary>
    public float[] RunningMean { get; }

    /// <summary>Running (unbiased) variance used in evaluation.</summary>
    public float[] RunningVar { get; }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        _training = ctx.Training;
        float[] y = Ensure(ref _y, x.Length);
        BatchNorm.Forward(x, Gamma.Data, Beta.Data, y, _mean, _rstd, RunningMean, RunningVar, _rows, Channels, ctx.Training, Momentum, Eps);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] dx = Ensure(ref _dx, dy.Length);
        Array.Clear(dx);
        // In evaluation mode the statistics are constants, which the kernel's training flag accounts for.
        BatchNorm.Backward(dy, _x, Gamma.Data, _mean, _rstd, dx, Gamma.Grad, Beta.Grad, _rows, Channels, _training);
        return dx;
    }
}

/// <summary>Dynamic Tanh: y = γ·tanh(α·x) + β with a learned scalar α, on the <see cref="Dyt"/> kernel. Parameters: 2C + 1.</summary>
public sealed class DytLayer : NormLayer
{
    private float[]? _y, _dx;
    private float[] _x = [];
    private int _rows;

    /// <summary>DyT over <paramref name="channels"/> with γ = 1, β = 0.</summary>
    /// <param name="channels">C.</param>
    /// <param name="alpha">Initial α (0.5, the paper's default for non-LLM models).</param>
    public DytLayer(int channels, float alpha = 0.5f)
        : base(channels)
    {
        Alpha = AddParameter("alpha", [1], decay: false);
        Gamma = AddParameter("weight", [channels], decay: false);
        Beta = AddParameter("bias", [channels], decay: false);
        Alpha.Data[0] = alpha;
        Array.Fill(Gamma.Data, 1f);
    }

    /// <summary>α: [1].</summary>
    public Parameter Alpha { get; }

    /// <summary>γ: [C].</summary>
    public Parameter Gamma { get; }

    /// <summary>β: [C].</summary>
    public Parameter Beta { get; }

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        float[] y = Ensure(ref _y, x.Length);
        Dyt.Forward(x, Alpha.Data, Gamma.Data, Beta.Data, y, _rows, Channels);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] dx = Ensure(ref _dx, dy.Length);
        Array.Clear(dx);
        Dyt.Backward(dy, _x, Alpha.Data, Gamma.Data, dx, Alpha.Grad, Gamma.Grad, Beta.Grad, _rows, Channels);
        return dx;
    }
}
