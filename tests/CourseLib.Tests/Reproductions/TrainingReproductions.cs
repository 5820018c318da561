using System.Diagnostics;
using CourseLib.Data;
using CourseLib.Init;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Training;
using Xunit.Abstractions;

namespace CourseLib.Tests.Reproductions;

/// <summary>
/// Reproductions 5 and 7: training runs. 5 is the warm-up result behind Post-LN's reputation (Xiong et al. 2020,
/// Fig. 1; Popel &amp; Bojar 2018); 7 is the degradation problem that motivated residual connections (He et al. 2016,
/// Fig. 1 and §4.1), on two spirals instead of ImageNet.
/// </summary>
[Collection(SerialTrainingRuns.Name)]
public class TrainingReproductions(ITestOutputHelper output)
{
    private double TrainCopy(NormPlacement placement, int warmup, int steps = 250)
    {
        var sw = Stopwatch.StartNew();
        var model = new TinyLm(DepthReproductions.CopyModel(6, placement));
        var task = new SequenceTask(SequenceTaskKind.Copy, 8, 14, seed: 21);
        var adam = new Adam(model, 3e-3, 0.9, 0.98);
        var trainer = new Trainer(model, adam, new LinearWarmupSchedule(3e-3, warmup), new TrainerOptions { RecordParameterStatistics = false });
        TrainingHistory h = trainer.Run(_ => task.Next(32), steps);
        double final = h.FinalLoss(10);
        output.WriteLine($"{placement} warm-up {warmup}: final loss {final:F3} (chance ln 14 = {Math.Log(14):F3}) in {sw.Elapsed.TotalSeconds:F1} s; " +
                         $"loss every 25 steps: {string.Join(" ", h.Losses.Where((_, i) => i % 25 == 0).Select(v => v.ToString("F2")))}");
        Assert.Null(h.Divergence);
        return final;
    }

    [Fact]
    public void Repro5_PostLnWithoutWarmup_StaysNearChance()
    {
        double loss = TrainCopy(NormPlacement.PostLn, warmup: 0);
        Assert.True(loss > 1.5, $"Post-LN without warm-up reached {loss:F3}; expected to stay above 1.5");
    }

    [Fact]
    public void Repro5_PostLnWithWarmup_LearnsTheCopy()
    {
        double loss = TrainCopy(NormPlacement.PostLn, warmup: 100);
        Assert.True(loss < 0.1, $"Post-LN with 100 warm-up steps reached {loss:F3}; expected below 0.1");
    }

    [Fact]
    public void Repro5_PreLnWithoutWarmup_LearnsTheCopy()
    {
        double loss = TrainCopy(NormPlacement.PreLn, warmup: 0);
        Assert.True(loss < 0.1, $"Pre-LN without warm-up reached {loss:F3}; expected below 0.1");
    }

    private double TrainSpirals(int depth, bool residual, double shortcut = 1.0, int steps = 600)
    {
        var sw = Stopwatch.StartNew();
        var model = new DeepMlp(new MlpConfig { Width = 32, Depth = depth, Norm = NormKind.BatchNorm, Residual = residual, ShortcutScale = shortcut, Seed = 5 });
        var rng = new Rng(13);
        var trainer = new Trainer(model, new Adam(model, 1e-3), options: new TrainerOptions { RecordParameterStatistics = false });
        TrainingHistory h = trainer.Run(_ => SyntheticTasks.TwoSpirals(64, rng), steps);
        double final = h.FinalLoss(20);
        output.WriteLine($"{depth} layers, {(residual ? $"residual (shortcut {shortcut})" : "plain")}: final loss {final:F4} in {sw.Elapsed.TotalSeconds:F1} s");
        Assert.Null(h.Divergence);
        return final;
    }

    [Fact]
    public void Repro7_He2016_DeepPlainMlpDegrades_ResidualDoesNot()
    {
        double plain42 = TrainSpirals(42, residual: false);
        double res6 = TrainSpirals(6, residual: true);
        double res42 = TrainSpirals(42, residual: true);
        Assert.True(Math.Abs(plain42 - Math.Log(2)) < 0.05, $"42-layer plain MLP ended at {plain42:F3}, expected near chance ln 2 = 0.693");
        Assert.True(res42 <= res6, $"42-layer residual {res42:F4} should end at or below 6-layer residual {res6:F4}");
    }

    [Fact]
    public void Repro7_He2016_HalvedShortcut_MakesDeepResidualNetWorse()
    {
        // The issue's TorchSharp calibration reports > 10× worse. With our MLP (x = 0.5·x + ReLU(BN(W·x)), batch 64,
        // 600 Adam steps) we measure about 3× (0.25 vs 0.084), and 2–3× across batch sizes, noise levels, spiral
        // turns and with ReLU after the addition; the direction holds everywhere, the 10× factor did not reproduce,
        // so the test asserts the direction with margin (> 2×) rather than a factor we cannot show. libtorch agrees:
        // the TorchMlp twin, trained from the same weights on the same batches with torch.optim.Adam, ends at
        // 0.090 / 0.107 / 0.087 (shortcut 1) and 0.246 / 0.235 / 0.230 (shortcut 0.5) for seeds 5 / 6 / 7, i.e.
        // 2.2–2.7× (ours: 0.084 / 0.102 / 0.078 and 0.254 / 0.216 / 0.193).
        double res42 = TrainSpirals(42, residual: true);
        double half = TrainSpirals(42, residual: true, shortcut: 0.5);
        Assert.True(half > 2 * res42, $"shortcut 0.5 gave {half:F4}, identity {res42:F4}: expected clearly worse (> 2×)");
    }
}
