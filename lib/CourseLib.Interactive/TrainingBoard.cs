using CourseLib.Training;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace CourseLib.Interactive;

/// <summary>
/// A live view of training for notebooks: loss curves of one or more runs (e.g. Post-LN vs Pre-LN) and the
/// gradient norm of every layer at the latest step, redrawn in place while training runs.
/// </summary>
/// <remarks>
/// The library cannot call the notebook's <c>display</c> itself (it differs between the Polyglot kernel and the
/// course runner), so the notebook connects the two in one line, which works in both:
/// <code>
/// var board = new TrainingBoard("Copy task");
/// var view = display(board.Chart());
/// board.OnRefresh = chart => view.Update(chart);
/// trainer.Run(step => task.Next(32), 250, board.Record("Post-LN"));
/// board.Refresh();   // the final chart: what the rendered site shows
/// </code>
/// Outside notebooks, <see cref="TrainerOptions.LogEvery"/> prints a text progress line instead.
/// </remarks>
public sealed class TrainingBoard
{
    private readonly List<Run> _runs = [];

    /// <summary>Creates an empty board.</summary>
    /// <param name="title">Shown above the charts.</param>
    /// <param name="refreshEvery">Redraw after every this many recorded steps of a run (redrawing costs a few ms in the browser).</param>
    public TrainingBoard(string title = "Training", int refreshEvery = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(refreshEvery, 1);
        Title = title ?? throw new ArgumentNullException(nameof(title));
        RefreshEvery = refreshEvery;
    }

    /// <summary>Title shown above the charts.</summary>
    public string Title { get; }

    /// <summary>Steps between redraws.</summary>
    public int RefreshEvery { get; }

    /// <summary>Called with the new chart on every redraw; connect it to the display handle's <c>Update</c>.</summary>
    public Action<GenericChart>? OnRefresh { get; set; }

    /// <summary>Names of the runs recorded so far, in the order they started.</summary>
    public IReadOnlyList<string> Runs => _runs.Select(r => r.Name).ToList();

    /// <summary>A callback for <see cref="Trainer.Run"/>'s <c>onStep</c> that records every step under <paramref name="run"/>.</summary>
    /// <exception cref="ArgumentException">The run name is empty.</exception>
    public Action<StepRecord> Record(string run)
    {
        Run target = GetOrAdd(run);
        return step => Add(target, step);
    }

    /// <summary>Records one step of <paramref name="run"/>, redrawing every <see cref="RefreshEvery"/> steps.</summary>
    public void Add(string run, StepRecord step) => Add(GetOrAdd(run), step);

    /// <summary>Redraws now (call it once after training so the last steps are shown).</summary>
    public void Refresh() => OnRefresh?.Invoke(Chart());

    /// <summary>
    /// The current charts: loss per step for every run (log scale), and ‖g‖ of each layer at the latest step of
    /// every run — the profile that shows Post-LN's gradients growing towards the last layers.
    /// </summary>
    public GenericChart Chart()
    {
        var lossCurves = new List<GenericChart>();
        var profiles = new List<GenericChart>();
        foreach (Run r in _runs)
        {
            lossCurves.Add(CSharpChart.Line<int, double, string>(r.Steps, r.Losses, Name: r.Name, ShowLegend: true));
            string[] layers = r.LastLayerNorms.Keys.ToArray();
            double[] norms = r.LastLayerNorms.Values.ToArray();
            profiles.Add(CSharpChart.Line<string, double, string>(layers, norms, Name: $"{r.Name} ‖g‖ (step {r.Steps.LastOrDefault()})",
                ShowMarkers: true, ShowLegend: true));
        }

        if (lossCurves.Count == 0)
        {
            // An empty board still draws its axes, so the cell that displays it before training shows where curves will appear.
            lossCurves.Add(CSharpChart.Line<int, double, string>(Array.Empty<int>(), Array.Empty<double>(), Name: "loss", ShowLegend: false));
            profiles.Add(CSharpChart.Line<string, double, string>(Array.Empty<string>(), Array.Empty<double>(), Name: "‖g‖", ShowLegend: false));
        }

        GenericChart loss = CSharpChart.Combine(lossCurves)
            .WithXAxisStyle<double, double, string>(TitleText: "step")
            .WithYAxisStyle<double, double, string>(TitleText: "loss (log scale)", AxisType: StyleParam.AxisType.Log);
        GenericChart profile = CSharpChart.Combine(profiles)
            .WithXAxisStyle<double, double, string>(TitleText: "layer")
            .WithYAxisStyle<double, double, string>(TitleText: "gradient norm");
        GenericChart grid = CSharpChart.Grid(new[] { loss, profile }, 1, 2);
        grid = grid.WithSize(Plots.Width + 280, Plots.Height);
        return Plotly.NET.Chart.withTitle(Title, null).Invoke(grid);
    }

    private Run GetOrAdd(string run)
    {
        if (string.IsNullOrWhiteSpace(run))
        {
            throw new ArgumentException("A run needs a name, e.g. \"Post-LN\".", nameof(run));
        }

        Run? found = _runs.Find(r => r.Name == run);
        if (found is null)
        {
            found = new Run(run);
            _runs.Add(found);
        }

        return found;
    }

    private void Add(Run run, StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        run.Steps.Add(step.Step);
        // A diverged step has a NaN/∞ loss; Plotly drops non-finite points, so the curve simply ends there.
        run.Losses.Add(step.Loss);
        run.LastLayerNorms = step.LayerGradNorms;
        if (run.Steps.Count % RefreshEvery == 0)
        {
            Refresh();
        }
    }

    private sealed class Run(string name)
    {
        public string Name { get; } = name;

        public List<int> Steps { get; } = [];

        public List<double> Losses { get; } = [];

        public IReadOnlyDictionary<string, double> LastLayerNorms { get; set; } = new Dictionary<string, double>();
    }
}
