using CourseLib.Kernels;
using CourseLib.Layers;

namespace CourseLib.Training;

/// <summary>
/// Updates parameters from their gradients. Holds the parameters by hierarchical name (so checkpoints can match
/// them) and per-parameter state buffers (momentum, Adam moments) that checkpoints save and restore.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Takes every parameter of <paramref name="module"/>.</summary>
    protected Optimizer(Module module, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and ≥ 0.");
        }

        Parameters = module.NamedParameters().ToList();
        LearningRate = learningRate;
    }

    /// <summary>The parameters updated, with their names, in the module's order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters { get; }

    /// <summary>Learning rate of the next <see cref="Step"/>; schedules set it before each step.</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken so far (Adam's bias correction uses it).</summary>
    public int StepCount { get; protected set; }

    /// <summary>Name written to checkpoints ("SGD", "Adam", "AdamW"); loading checks it.</summary>
    public abstract string Kind { get; }

    /// <summary>One update of every parameter from its current gradient.</summary>
    public abstract void Step();

    /// <summary>The state buffers kept for parameter <paramref name="index"/> (e.g. Adam's m and v), in a fixed order.</summary>
    public abstract IReadOnlyList<float[]> StateOf(int index);

    /// <summary>Restores the step counter (checkpoint loading).</summary>
    internal void RestoreStepCount(int steps) => StepCount = steps;
}

/// <summary>
/// Stochastic gradient descent with optional momentum and L2 weight decay, as PyTorch's torch.optim.SGD
/// (dampening 0): g ← g + λθ; b ← μ·b + g (b = g on the first step); θ ← θ − lr·b.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][] _momentum;

    /// <summary>SGD over every parameter of <paramref name="module"/>.</summary>
    /// <param name="module">The model.</param>
    /// <param name="learningRate">Step size.</param>
    /// <param name="momentum">μ; 0 = plain SGD.</param>
    /// <param name="weightDecay">λ, applied only to parameters with <see cref="Parameter.Decay"/>.</param>
    public Sgd(Module module, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(module, learningRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(momentum);
        ArgumentOutOfRangeException.ThrowIfNegative(weightDecay);
        Momentum = momentum;
        WeightDecay = weightDecay;
        _momentum = Parameters.Select(p => momentum > 0 ? new float[p.Parameter.Count] : []).ToArray();
    }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>λ.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public override string Kind => "SGD";

    /// <inheritdoc />
    public override void Step()
    {
        float lr = (float)LearningRate, mu = (float)Momentum;
        for (int k = 0; k < Parameters.Count; k++)
        {
            Parameter p = Parameters[k].Parameter;
            float wd = p.Decay ? (float)WeightDecay : 0f;
            float[] w = p.Data, g = p.Grad, b = _momentum[k];
            for (int i = 0; i < w.Length; i++)
            {
                float gi = g[i] + wd * w[i];
                if (mu > 0)
                {
                    b[i] = StepCount == 0 ? gi : mu * b[i] + gi;
                    gi = b[i];
                }

                w[i] -= lr * gi;
            }
        }

        StepCount++;
    }

    /// <inheritdoc />
    public override IReadOnlyList<float[]> StateOf(int index) => Momentum > 0 ? [_momentum[index]] : [];
}

/// <summary>
/// Adam (Kingma &amp; Ba 2015) and AdamW (Loshchilov &amp; Hutter 2019), as torch.optim.Adam/AdamW:
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr·m̂/(√v̂ + ε) with bias-corrected m̂, v̂.
/// Adam adds λθ to g (L2); AdamW decays the weights directly, θ ← θ − lr·λ·θ, before the step.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m;
    private readonly float[][] _v;

    /// <summary>Adam or AdamW over every parameter of <paramref name="module"/>.</summary>
    /// <param name="module">The model.</param>
    /// <param name="learningRate">Step size.</param>
    /// <param name="beta1">β₁, momentum of the gradient (0.9: PyTorch's default).</param>
    /// <param name="beta2">β₂, momentum of the squared gradient (0.999: PyTorch's default; the Transformer used 0.98).</param>
    /// <param name="epsilon">ε (1e-8: PyTorch's default).</param>
    /// <param name="weightDecay">λ, applied only to parameters with <see cref="Parameter.Decay"/>.</param>
    /// <param name="decoupled">true = AdamW (decoupled decay), false = Adam with L2 added to the gradient.</param>
    public Adam(Module module, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0, bool decoupled = false)
        : base(module, learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must be in [0, 1).");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must be in [0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        ArgumentOutOfRangeException.ThrowIfNegative(weightDecay);
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Decoupled = decoupled;
        _m = Parameters.Select(p => new float[p.Parameter.Count]).ToArray();
        _v = Parameters.Select(p => new float[p.Parameter.Count]).ToArray();
    }

    /// <summary>AdamW with decoupled weight decay λ (0.01: PyTorch's AdamW default).</summary>
    public static Adam W(Module module, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        => new(module, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true);

    /// <summary>β₁.</summary>
    public double Beta1 { get; }

    /// <summary>β₂.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>λ.</summary>
    public double WeightDecay { get; }

    /// <summary>true for AdamW.</summary>
    public bool Decoupled { get; }

    /// <inheritdoc />
    public override string Kind => Decoupled ? "AdamW" : "Adam";

    /// <inheritdoc />
    public override void Step()
    {
        int t = StepCount + 1;
        // Bias corrections in double: β₂ᵗ for β₂ = 0.999 is far from 1 only after thousands of steps.
        double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
        float stepSize = (float)(LearningRate / bc1);
        float sqrtBc2 = (float)Math.Sqrt(bc2);
        for (int k = 0; k < Parameters.Count; k++)
        {
            Parameter p = Parameters[k].Parameter;
            float wd = p.Decay ? (float)WeightDecay : 0f;
            var scalars = new AdamUpdate.Scalars((float)Beta1, (float)Beta2, (float)Epsilon, stepSize, sqrtBc2,
                Decay: Decoupled ? 1f - ((float)LearningRate * wd) : 1f, L2: Decoupled ? 0f : wd);
            AdamUpdate.Step(p.Data, p.Grad, _m[k], _v[k], scalars);
        }

        StepCount = t;
    }

    /// <inheritdoc />
    public override IReadOnlyList<float[]> StateOf(int index) => [_m[index], _v[index]];
}
