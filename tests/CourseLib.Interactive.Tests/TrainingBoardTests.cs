using CourseLib.Data;
using CourseLib.Interactive;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Training;
using Plotly.NET;

namespace CourseLib.Interactive.Tests;

public class TrainingBoardTests
{
    private static TrainingHistory Train(NormPlacement placement, Action<StepRecord> onStep, int steps = 25)
    {
        var model = new TinyLm(new LmConfig { Vocab = 14, Context = 16, Channels = 16, Heads = 2, Layers = 2, Placement = placement, Seed = 1 });
        var task = new SequenceTask(SequenceTaskKind.Copy, length: 8, vocab: 14, seed: 2);
        var trainer = new Trainer(model, new Adam(model, 3e-3, beta2: 0.98), new ConstantSchedule(3e-3), new TrainerOptions());
        return trainer.Run(_ => task.Next(8), steps, onStep);
    }

    [Fact]
    public void TrainingBoard_TwoRuns_RefreshesEveryNStepsAndDrawsBoth()
    {
        var board = new TrainingBoard("Copy task", refreshEvery: 10);
        var charts = new List<GenericChart>();
        board.OnRefresh = charts.Add;

        TrainingHistory post = Train(NormPlacement.PostLn, board.Record("Post-LN"));
        TrainingHistory pre = Train(NormPlacement.PreLn, board.Record("Pre-LN"));
        board.Refresh();

        Assert.Equal(25, post.Steps.Count);
        Assert.Equal(25, pre.Steps.Count);
        // 25 steps per run at one redraw per 10 steps: 2 + 2, plus the explicit final one.
        Assert.Equal(5, charts.Count);
        Assert.Equal(new[] { "Post-LN", "Pre-LN" }, board.Runs);

        string html = Formatters.ToHtml(charts[^1]);
        Assert.Contains("Post-LN", html, StringComparison.Ordinal);
        Assert.Contains("Pre-LN", html, StringComparison.Ordinal);
        Assert.Contains("Copy task", html, StringComparison.Ordinal);
        // The gradient profile is labelled by the trainer's layer names.
        string firstLayer = post.Steps[^1].LayerGradNorms.Keys.First();
        Assert.Contains(firstLayer, html, StringComparison.Ordinal);
        // The last loss of the Post-LN run is on the chart, as Plotly.NET serialises it.
        Assert.Contains(post.Steps[^1].Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)[..6], html, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainingBoard_Empty_StillDrawsAChart()
    {
        var board = new TrainingBoard();
        string html = Formatters.ToHtml(board.Chart());
        Assert.Contains("Training", html, StringComparison.Ordinal);
        Assert.Empty(board.Runs);
    }

    [Fact]
    public void TrainingBoard_EmptyRunName_Throws()
    {
        var board = new TrainingBoard();
        var e = Assert.Throws<ArgumentException>(() => board.Record(" "));
        Assert.Equal("run", e.ParamName);
    }

    [Fact]
    public void TrainingBoard_NonPositiveRefresh_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingBoard(refreshEvery: 0));
    }
}
