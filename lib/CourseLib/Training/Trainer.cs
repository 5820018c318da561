using System.Globalization;
using CourseLib.Data;
using CourseLib.Layers;
using CourseLib.Models;

namespace CourseLib.Training;

/// <summary>What the trainer measures and how it reports. Defaults favour seeing everything on lesson-sized models.</summary>
public sealed record TrainerOptions
{
    /// <summary>Clip the global gradient norm to this value; null (default) leaves gradients raw, so lessons see what the model does.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Record per-parameter gradient norms and update-to-weight ratios (default true; costs one copy of the weights per step).</summary>
    public bool RecordParameterStatistics { get; init; } = true;

    /// <summary>Print a progress line every this many steps to <see cref="Log"/> (0 = never, the default in notebooks where the board shows it).</summary>
    public int LogEvery { get; init; }

    /// <summary>Where progress lines go (default: Console.Out).</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Throw <see cref="TrainingDivergedException"/> on NaN/∞ instead of stopping and recording the message (default false).</summary>
    public bool ThrowOnDivergence { get; init; }
}

/// <summary>Everything measured at one training step.</summary>
public sealed record StepRecord
{
    /// <summary>0-based step.</summary>
    public required int Step { get; init; }

    /// <summary>Training loss of the batch (before the update).</summary>
    public required double Loss { get; init; }

    /// <summary>Learning rate used for the update.</summary>
    public required double LearningRate { get; init; }

    /// <summary>‖g‖₂ over all parameters, before clipping.</summary>
    public required double GradNorm { get; init; }

    /// <summary>‖g‖₂ per layer (see <see cref="Model.LayerOf"/>), in model order.</summary>
    public required IReadOnlyDictionary<string, double> LayerGradNorms { get; init; }

    /// <summary>‖g‖₂ per parameter, by hierarchical name (empty unless recorded).</summary>
    public required IReadOnlyDictionary<string, double> ParameterGradNorms { get; init; }

    /// <summary>‖Δθ‖/‖θ‖ per parameter for this update (empty unless recorded).</summary>
    public required IReadOnlyDictionary<string, double> UpdateToWeight { get; init; }

    /// <summary>RMS of the residual stream after each block.</summary>
    public required IReadOnlyList<double> ResidualRms { get; init; }

    /// <summary>Fraction of ReLU hidden units inactive on every row of the batch, averaged over ReLU FFNs; null without ReLU.</summary>
    public double? DeadReluFraction { get; init; }

    /// <summary>Every module's own diagnostics (e.g. "blocks.0.ffn.dead_relu", "blocks.1.ffn.dropped_tokens").</summary>
    public required IReadOnlyDictionary<string, double> Diagnostics { get; init; }
}

/// <summary>The record of a run: one <see cref="StepRecord"/> per completed step, and why it stopped early, if it did.</summary>
public sealed class TrainingHistory
{
    private readonly List<StepRecord> _steps = [];

    /// <summary>Completed steps in order.</summary>
    public IReadOnlyList<StepRecord> Steps => _steps;

    /// <summary>The divergence message if training stopped on NaN/∞, else null.</summary>
    public string? Divergence { get; internal set; }

    /// <summary>Loss per step.</summary>
    public double[] Losses => _steps.Select(s => s.Loss).ToArray();

    /// <summary>Global gradient norm per step.</summary>
    public double[] GradNorms => _steps.Select(s => s.GradNorm).ToArray();

    /// <summary>Mean loss of the last <paramref name="count"/> steps (smooths batch noise when judging where a run ended).</summary>
    public double FinalLoss(int count = 10)
    {
        if (_steps.Count == 0)
        {
            return double.NaN;
        }

        return _steps.Skip(Math.Max(0, _steps.Count - count)).Average(s => s.Loss);
    }

    internal void Add(StepRecord r) => _steps.Add(r);
}

/// <summary>Thrown when training meets NaN/∞ and <see cref="TrainerOptions.ThrowOnDivergence"/> is set.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TrainingDivergedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public TrainingDivergedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Step at which the non-finite value appeared.</summary>
    public int Step { get; init; }

    /// <summary>The first layer (or parameter) found non-finite.</summary>
    public string? Location { get; init; }
}

/// <summary>
/// The training loop: zero gradients, forward, backward, measure, (clip), step, with the learning rate from a
/// schedule. Everything it does is deterministic given the model's seed and the batches, so the same seed gives
/// bit-identical curves. On NaN/∞ it stops and names the step, the first layer where it appeared, and a hint.
/// </summary>
public sealed class Trainer
{
    private readonly Model _model;
    private readonly Optimizer _optimizer;
    private readonly ILearningRateSchedule _schedule;
    private readonly List<(string Name, Parameter Parameter)> _params;
    private float[][]? _before;
    private int _step;

    /// <summary>A trainer for <paramref name="model"/>; without a schedule the optimizer's learning rate stays constant.</summary>
    public Trainer(Model model, Optimizer optimizer, ILearningRateSchedule? schedule = null, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        _model = model;
        _optimizer = optimizer;
        _schedule = schedule ?? new ConstantSchedule(optimizer.LearningRate);
        Options = options ?? new TrainerOptions();
        _params = model.NamedParameters().ToList();
    }

    /// <summary>The options in force.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Every step so far.</summary>
    public TrainingHistory History { get; } = new();

    /// <summary>
    /// Trains for <paramref name="steps"/> steps on batches from <paramref name="nextBatch"/>(step), calling
    /// <paramref name="onStep"/> after each (e.g. to update a live plot). Stops early on divergence.
    /// </summary>
    public TrainingHistory Run(Func<int, Batch> nextBatch, int steps, Action<StepRecord>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(nextBatch);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        for (int i = 0; i < steps && History.Divergence is null; i++)
        {
            StepRecord? r = Step(nextBatch(_step));
            if (r is not null)
            {
                onStep?.Invoke(r);
            }
        }

        return History;
    }

    /// <summary>One training step on <paramref name="batch"/>; returns its record, or null if it diverged (see <see cref="TrainingHistory.Divergence"/>).</summary>
    public StepRecord? Step(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (History.Divergence is not null)
        {
            throw new InvalidOperationException("Training already diverged: " + History.Divergence);
        }

        int step = _step;
        double lr = _schedule.At(step);
        _optimizer.LearningRate = lr;

        _model.ZeroGrad();
        float loss = _model.Forward(batch, training: true, step: step);
        if (!float.IsFinite(loss))
        {
            return Diverge(step, $"the loss is {loss}", LocateForward());
        }

        _model.Backward();
        double gradNorm = GradientClipping.GlobalNorm(_params.Select(p => p.Parameter));
        if (!double.IsFinite(gradNorm))
        {
            return Diverge(step, $"the gradient norm is {gradNorm} (loss {loss:G4} was finite)", LocateGradient());
        }

        var perParam = new Dictionary<string, double>();
        var perLayer = new Dictionary<string, double>();
        foreach (var (name, p) in _params)
        {
            double ss = GradientClipping.SumOfSquares(p.Grad);
            if (Options.RecordParameterStatistics)
            {
                perParam[name] = Math.Sqrt(ss);
            }

            string layer = _model.LayerOf(name);
            perLayer[layer] = perLayer.GetValueOrDefault(layer) + ss;
        }

        foreach (string k in perLayer.Keys.ToList())
        {
            perLayer[k] = Math.Sqrt(perLayer[k]);
        }

        var diagnostics = new Dictionary<string, double>();
        foreach (var (path, m) in _model.NamedModules())
        {
            m.AddDiagnostics(path, diagnostics);
        }

        var dead = diagnostics.Where(kv => kv.Key.EndsWith(".dead_relu", StringComparison.Ordinal)).Select(kv => kv.Value).ToList();
        IReadOnlyList<double> residual = _model.ResidualStreamRms();

        if (Options.ClipNorm is double clip)
        {
            GradientClipping.ClipGlobalNorm(_params.Select(p => p.Parameter), clip);
        }

        if (Options.RecordParameterStatistics)
        {
            _before ??= _params.Select(p => new float[p.Parameter.Count]).ToArray();
            for (int k = 0; k < _params.Count; k++)
            {
                _params[k].Parameter.Data.CopyTo(_before[k], 0);
            }
        }

        _optimizer.Step();

        var ratio = new Dictionary<string, double>();
        if (Options.RecordParameterStatistics)
        {
            for (int k = 0; k < _params.Count; k++)
            {
                float[] w = _params[k].Parameter.Data, b = _before![k];
                double du = 0, ww = 0;
                for (int i = 0; i < w.Length; i++)
                {
                    double d = (double)w[i] - b[i];
                    du += d * d;
                    ww += (double)b[i] * b[i];
                }

                ratio[_params[k].Name] = ww > 0 ? Math.Sqrt(du / ww) : double.NaN;
            }
        }

        var record = new StepRecord
        {
            Step = step,
            Loss = loss,
            LearningRate = lr,
            GradNorm = gradNorm,
            LayerGradNorms = perLayer,
            ParameterGradNorms = perParam,
            UpdateToWeight = ratio,
            ResidualRms = residual,
            DeadReluFraction = dead.Count > 0 ? dead.Average() : null,
            Diagnostics = diagnostics,
        };
        History.Add(record);
        _step++;
        if (Options.LogEvery > 0 && (step % Options.LogEvery == 0))
        {
            (Options.Log ?? Console.Out).WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {step,5}  loss {loss,9:F4}  lr {lr,9:E2}  |g| {gradNorm,9:E2}"));
        }

        return record;
    }

    private StepRecord? Diverge(int step, string what, string location)
    {
        string hint = step < 20
            ? "Hint: it diverged early — try learning-rate warm-up (LinearWarmupSchedule), a lower learning rate, or Pre-LN instead of Post-LN."
            : "Hint: lower the learning rate, clip gradients (TrainerOptions.ClipNorm), or add warm-up.";
        string message = $"Training diverged at step {step}: {what}. First non-finite value: {location}. {hint}";
        History.Divergence = message;
        if (Options.LogEvery > 0)
        {
            (Options.Log ?? Console.Out).WriteLine(message);
        }

        if (Options.ThrowOnDivergence)
        {
            throw new TrainingDivergedException(message) { Step = step, Location = location };
        }

        return null;
    }

    /// <summary>The first parameter that is non-finite, else the first (innermost) layer whose output is.</summary>
    private string LocateForward()
    {
        foreach (var (name, p) in _params)
        {
            if (!AllFinite(p.Data))
            {
                return $"parameter '{name}' (a previous update made it non-finite)";
            }
        }

        return FirstNonFiniteLayer(_model, "") is { } found ? $"output of layer '{found.Path}' ({found.Type})" : "the loss itself (every layer output is finite)";
    }

    private string LocateGradient()
    {
        // Backward runs last layer first, so the gradient that broke first is the last parameter in forward order.
        for (int k = _params.Count - 1; k >= 0; k--)
        {
            if (!AllFinite(_params[k].Parameter.Grad))
            {
                return $"gradient of '{_params[k].Name}' (in backward order)";
            }
        }

        return "no single parameter (their squares overflowed when summed)";
    }

    /// <summary>Depth-first in forward (registration) order; a layer is reported only if none of its sub-layers is non-finite.</summary>
    private static (string Path, string Type)? FirstNonFiniteLayer(Module m, string prefix)
    {
        foreach (var (name, child) in m.Children)
        {
            string path = prefix + name;
            if (child is Layer layer && layer.LastOutput is { } y && !AllFinite(y))
            {
                return FirstNonFiniteLayer(child, path + ".") ?? (path, child.GetType().Name);
            }

            if (child is not Layer && FirstNonFiniteLayer(child, path + ".") is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    private static bool AllFinite(ReadOnlySpan<float> a)
    {
        foreach (float v in a)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }
}
