using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>An element-wise non-linearity (ReLU, GELU, GELU-tanh or SiLU) as a layer, on the activation kernels.</summary>
public sealed class ActivationLayer : Layer
{
    private float[]? _y, _dx;
    private float[] _x = [];
    private int _rows;

    /// <summary>An element-wise <paramref name="activation"/> over rows of <paramref name="channels"/>.</summary>
    public ActivationLayer(int channels, Activation activation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (FeedForward.IsGatedKind(activation))
        {
            throw new ArgumentException($"{activation} is gated (it needs two inputs); use FeedForward for gated units.", nameof(activation));
        }

        Channels = channels;
        Activation = activation;
    }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>The non-linearity.</summary>
    public Activation Activation { get; }

    /// <inheritdoc />
    public override int InputSize => Channels;

    /// <inheritdoc />
    public override int OutputSize => Channels;

    /// <inheritdoc />
    public override float[] Forward(float[] x, ForwardContext ctx)
    {
        CheckInput(x, ctx);
        _x = x;
        _rows = ctx.Rows;
        float[] y = Ensure(ref _y, x.Length);
        ElementwiseActivation.Forward(Activation, x, y);
        LastOutput = y;
        return y;
    }

    /// <inheritdoc />
    public override float[] Backward(float[] dy)
    {
        CheckGradient(dy, _rows, Channels);
        float[] dx = Ensure(ref _dx, dy.Length);
        ElementwiseActivation.BackwardOverwriting(Activation, dy, _x, dx);
        return dx;
    }

    /// <inheritdoc />
    public override void AddDiagnostics(string path, IDictionary<string, double> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (Activation != Activation.Relu || _rows == 0)
        {
            return;
        }

        int dead = 0;
        for (int j = 0; j < Channels; j++)
        {
            bool alive = false;
            for (int r = 0; r < _rows && !alive; r++)
            {
                alive = _x[r * Channels + j] > 0;
            }

            dead += alive ? 0 : 1;
        }

        sink[path + ".dead_relu"] = (double)dead / Channels;
    }
}
