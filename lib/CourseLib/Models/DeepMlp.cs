using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Kernels;
using CourseLib.Layers;

namespace CourseLib.Models;

/// <summary>Settings of <see cref="DeepMlp"/>. Defaults: a 6-layer BatchNorm ReLU classifier for the two-spirals task.</summary>
public sealed record MlpConfig
{
    /// <summary>Input features (2: points in the plane).</summary>
    public int Inputs { get; init; } = 2;

    /// <summary>Hidden width (32: He et al.'s degradation shows at this size in seconds).</summary>
    public int Width { get; init; } = 32;

    /// <summary>Linear layers in total, input and output layers included (6).</summary>
    public int Depth { get; init; } = 6;

    /// <summary>Classes for a softmax classifier (2); 0 = regression with <see cref="Outputs"/> outputs and mean squared error.</summary>
    public int Classes { get; init; } = 2;

    /// <summary>Regression outputs when <see cref="Classes"/> is 0 (1).</summary>
    public int Outputs { get; init; } = 1;

    /// <summary>Norm after each hidden linear layer; null = none (BatchNorm: as in ResNet).</summary>
    public NormKind? Norm { get; init; } = NormKind.BatchNorm;

    /// <summary>Hidden non-linearity (ReLU: as in ResNet).</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>x = s·x + f(x) between hidden layers instead of x = f(x) (false: plain).</summary>
    public bool Residual { get; init; }

    /// <summary>
    /// Where the residual layer applies its non-linearity: false (default) x = s·x + act(Norm(W·x)), the stream stays
    /// linear; true x = act(s·x + Norm(W·x)), He et al. 2016's original "ReLU after the addition".
    /// </summary>
    public bool ActivationAfterAdd { get; init; }

    /// <summary>s, the shortcut scale of residual layers (1: the identity shortcut He et al. argue for).</summary>
    public double ShortcutScale { get; init; } = 1.0;

    /// <summary>
    /// ReZero (Bachlechner et al. 2020): residual layers compute x = s·x + α_l·act(Norm(W·x)) with a learned scalar α_l
    /// ("layers.l.rezero") that starts at 0, so every residual layer starts as the identity. False by default; needs
    /// <see cref="Residual"/> and the activation before the addition.
    /// </summary>
    public bool ReZero { get; init; }

    /// <summary>Initialization (PyTorch's default).</summary>
    public InitScheme Init { get; init; } = InitScheme.PyTorchDefault;

    /// <summary>Seed of every initial weight.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// A deep MLP, plain or residual. Hidden layer f_l(x) = act(Norm(W_l·x + b_l)); the first maps the inputs to the
/// width, then plain: x = f_l(x), residual: x = s·x + f_l(x) (ReZero: x = s·x + α_l·f_l(x)); finally a linear head. Classification uses softmax
/// cross-entropy, regression mean squared error.
/// </summary>
public sealed class DeepMlp : Model
{
    private readonly LinearLayer[] _linear;
    private readonly NormLayer?[] _norm;
    private readonly ActivationLayer[] _act;
    private readonly Parameter?[] _gate;
    private readonly float[]?[] _stream;
    private readonly float[]?[] _dstream;
    private readonly float[]?[] _layerOut;
    private float[]? _probs, _dout, _dgate;
    private float[] _out = [];
    private Batch? _batch;
    private ForwardContext _ctx;

    /// <summary>A network with weights drawn from <see cref="MlpConfig.Seed"/>.</summary>
    public DeepMlp(MlpConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(config.Depth, 2);
        if (config.Classes == 1 || config.Classes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(config), config.Classes, "Classes must be ≥ 2 (classification) or 0 (regression).");
        }

        if (config.ReZero && (!config.Residual || config.ActivationAfterAdd))
        {
            throw new ArgumentException("ReZero needs Residual = true and ActivationAfterAdd = false: it gates the branch of x = x + α·F(x).", nameof(config));
        }

        Config = config;
        var rng = new Rng(config.Seed);
        int hidden = config.Depth - 1;
        _gate = new Parameter?[hidden];
        for (int l = 1; l < hidden && config.ReZero; l++)
        {
            // α = 0 (Parameter starts zeroed): the layer starts as the identity; a scalar gate is not weight-decayed.
            _gate[l] = AddParameter($"layers.{l}.rezero", [1], decay: false);
        }

        _linear = new LinearLayer[hidden];
        _norm = new NormLayer?[hidden];
        _act = new ActivationLayer[hidden];
        _stream = new float[]?[hidden];
        _dstream = new float[]?[hidden];
        _layerOut = new float[]?[hidden];
        for (int l = 0; l < hidden; l++)
        {
            _linear[l] = AddModule($"layers.{l}.linear", new LinearLayer(l == 0 ? config.Inputs : config.Width, config.Width, rng, config.Init));
            if (config.Norm is NormKind kind)
            {
                _norm[l] = AddModule($"layers.{l}.norm", NormLayer.Create(kind, config.Width));
            }

            _act[l] = AddModule($"layers.{l}.act", new ActivationLayer(config.Width, config.Activation));
        }

        Head = AddModule("head", new LinearLayer(config.Width, OutputWidth, rng, config.Init));
    }

    /// <summary>The settings.</summary>
    public MlpConfig Config { get; }

    /// <summary>The output layer.</summary>
    public LinearLayer Head { get; }

    /// <summary>Classes, or regression outputs.</summary>
    public int OutputWidth => Config.Classes > 0 ? Config.Classes : Config.Outputs;

    /// <inheritdoc />
    public override float[] Output => _out;

    /// <inheritdoc />
    public override string LayerOf(string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        string[] parts = parameterName.Split('.');
        return parts[0] == "layers" && parts.Length > 1 ? "layers." + parts[1] : parts[0];
    }

    /// <inheritdoc />
    public override float Forward(Batch batch, bool training = true, int step = 0)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Inputs is null || batch.Features != Config.Inputs)
        {
            throw new ArgumentException($"DeepMlp needs a vector batch with {Config.Inputs} features; got {(batch.Inputs is null ? "no inputs" : batch.Features + " features")}.", nameof(batch));
        }

        _batch = batch;
        _ctx = new ForwardContext(batch.Size, 1, training, step);
        float[] x = batch.Inputs;
        for (int l = 0; l < _linear.Length; l++)
        {
            bool residual = l > 0 && Config.Residual;
            float scale = (float)Config.ShortcutScale;
            if (residual && Config.ActivationAfterAdd)
            {
                float[] h = PreActivation(l, x);
                float[] s = _stream[l] is { } b && b.Length == h.Length ? b : (_stream[l] = new float[h.Length]);
                for (int i = 0; i < s.Length; i++)
                {
                    s[i] = scale * x[i] + h[i];   // x = act(s·x + Norm(W·x))
                }

                x = _act[l].Forward(s, _ctx);
            }
            else if (residual)
            {
                float[] f = _act[l].Forward(PreActivation(l, x), _ctx);
                float[] s = _stream[l] is { } b && b.Length == f.Length ? b : (_stream[l] = new float[f.Length]);
                float alpha = _gate[l] is { } gate ? gate.Data[0] : 1f;
                for (int i = 0; i < s.Length; i++)
                {
                    s[i] = scale * x[i] + alpha * f[i];   // x = s·x + α·act(Norm(W·x)), α = 1 without ReZero
                }

                x = s;
            }
            else
            {
                x = _act[l].Forward(PreActivation(l, x), _ctx);   // x = act(Norm(W·x))
            }

            _layerOut[l] = x;
        }

        _out = Head.Forward(x, _ctx);
        return Config.Classes > 0 ? CrossEntropy(batch) : SquaredError(batch);
    }

    /// <inheritdoc />
    public override void Backward()
    {
        if (_batch is null)
        {
            throw new InvalidOperationException("DeepMlp.Backward was called before Forward.");
        }

        float[] dout = _dout is { } d && d.Length == _out.Length ? d : (_dout = new float[_out.Length]);
        Array.Clear(dout);
        if (Config.Classes > 0)
        {
            SoftmaxCrossEntropy.Backward(_probs!, _batch.Labels!, dout, _ctx.Rows, Config.Classes);
        }
        else
        {
            float[] y = _batch.Values!;
            float scale = 2f / _out.Length;
            for (int i = 0; i < dout.Length; i++)
            {
                dout[i] = scale * (_out[i] - y[i]);
            }
        }

        float[] dx = Head.Backward(dout);
        for (int l = _linear.Length - 1; l >= 0; l--)
        {
            bool residual = l > 0 && Config.Residual;
            float scale = (float)Config.ShortcutScale;
            float[] ds = residual && Config.ActivationAfterAdd ? _act[l].Backward(dx) : dx;
            float[] dh = residual && Config.ActivationAfterAdd ? ds : _act[l].Backward(_gate[l] is { } gate ? GateBackward(gate, l, dx) : dx);
            float[] dPrev = PreActivationBackward(l, dh);
            if (residual)
            {
                float[] dsum = _dstream[l] is { } b && b.Length == dPrev.Length ? b : (_dstream[l] = new float[dPrev.Length]);
                for (int i = 0; i < dsum.Length; i++)
                {
                    dsum[i] = scale * ds[i] + dPrev[i];
                }

                dx = dsum;
            }
            else
            {
                dx = dPrev;
            }
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<double> ResidualStreamRms() => _layerOut.Select(s => s is null ? double.NaN : Rms(s)).ToArray();

    /// <summary>Fraction of the batch whose arg-max output equals its label (classification only).</summary>
    public double Accuracy(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        Forward(batch, training: false);
        int k = Config.Classes, correct = 0;
        for (int r = 0; r < batch.Size; r++)
        {
            int best = 0;
            for (int j = 1; j < k; j++)
            {
                best = _out[r * k + j] > _out[r * k + best] ? j : best;
            }

            correct += best == batch.Labels![r] ? 1 : 0;
        }

        return (double)correct / batch.Size;
    }

    // x = s·x + α·f: dα += Σ dy ⊙ f, and the branch receives α·dy.
    private float[] GateBackward(Parameter gate, int l, float[] dy)
    {
        float[] f = _act[l].LastOutput!;
        float alpha = gate.Data[0];
        float[] df = _dgate is { } g && g.Length == dy.Length ? g : (_dgate = new float[dy.Length]);
        double dalpha = 0;
        for (int i = 0; i < dy.Length; i++)
        {
            dalpha += (double)dy[i] * f[i];
            df[i] = alpha * dy[i];
        }

        gate.Grad[0] += (float)dalpha;
        return df;
    }

    private float[] PreActivation(int l, float[] x)
    {
        float[] h = _linear[l].Forward(x, _ctx);
        return _norm[l] is { } norm ? norm.Forward(h, _ctx) : h;
    }

    private float[] PreActivationBackward(int l, float[] dh)
    {
        if (_norm[l] is { } norm)
        {
            dh = norm.Backward(dh);
        }

        return _linear[l].Backward(dh);
    }

    private float CrossEntropy(Batch batch)
    {
        if (batch.Labels is null)
        {
            throw new ArgumentException("A classifier needs Labels in the batch.", nameof(batch));
        }

        float[] probs = _probs is { } p && p.Length == _out.Length ? p : (_probs = new float[_out.Length]);
        return SoftmaxCrossEntropy.Forward(_out, batch.Labels, probs, _ctx.Rows, Config.Classes);
    }

    private float SquaredError(Batch batch)
    {
        if (batch.Values is null || batch.Outputs != Config.Outputs)
        {
            throw new ArgumentException($"A regression MLP needs Values with {Config.Outputs} outputs per sample.", nameof(batch));
        }

        double s = 0;
        for (int i = 0; i < _out.Length; i++)
        {
            double d = _out[i] - batch.Values[i];
            s += d * d;
        }

        return (float)(s / _out.Length);
    }
}
