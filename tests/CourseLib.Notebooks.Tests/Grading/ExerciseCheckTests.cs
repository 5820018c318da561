using CourseLib.Interactive.Exercises;
using CourseLib.Torch;
using TorchSharp;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>The inline checks learners call from notebooks, and the library they fall back on.</summary>
public class ExerciseCheckTests
{
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        foreach (ExerciseSpec e in ExerciseCatalog.All)
        {
            data.Add(e.Id);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Library_EveryCaseVisibleAndHidden_Passes(string id)
    {
        // The fallback must itself be right, or Use would hand learners a wrong function.
        ExerciseSpec spec = ExerciseCatalog.Get(id);
        ExerciseEvaluation eval = spec.Evaluate(spec.Library, includeHidden: true);
        Assert.True(eval.Status == ExerciseStatus.Passed, eval.ToString());
        Assert.True(eval.Cases.Count(c => c.Hidden) >= 2, $"{id} needs hidden cases beyond the visible ones");
        Assert.True(eval.Cases.Count(c => !c.Hidden) >= 2, $"{id} needs visible cases for the inline check");
    }

    [Fact]
    public void Check_Stub_NotAttemptedAndSaysWhatToReplace()
    {
        ExerciseCheck check = Exercise.Check("2.1", (Func<float[], float[]>)(x => throw new NotImplementedException("Exercise 2.1: GELU")));
        Assert.Equal(ExerciseStatus.NotAttempted, check.Status);
        Assert.Contains("not attempted yet", check.ToString(), StringComparison.Ordinal);
        Assert.Contains("library kernel: 2/2 cases", check.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_BesselVariance_FailsWithBesselHint()
    {
        float[] Bessel(float[] x, float[] g, float[] b, int n, int c, float eps)
        {
            var y = new float[n * c];
            for (int r = 0; r < n; r++)
            {
                float mean = 0, v = 0;
                for (int j = 0; j < c; j++) mean += x[r * c + j] / c;
                for (int j = 0; j < c; j++) v += (x[r * c + j] - mean) * (x[r * c + j] - mean) / (c - 1);
                for (int j = 0; j < c; j++) y[r * c + j] = (x[r * c + j] - mean) / MathF.Sqrt(v + eps) * g[j] + b[j];
            }

            return y;
        }

        ExerciseCheck check = Exercise.Check("3.1", Bessel);
        Assert.Equal(ExerciseStatus.Failed, check.Status);
        Assert.Contains(check.Learner!.Hints, h => h.Contains("Bessel", StringComparison.Ordinal));
        Assert.Contains("💡", check.ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WrongSignature_ReportedNotThrown()
    {
        ExerciseCheck check = Exercise.Check("3.1", (Func<float[], float[]>)(x => x));
        Assert.Null(check.Learner);
        Assert.Contains("expects `float[] LayerNormForward(", check.SignatureError, StringComparison.Ordinal);
        Assert.Contains("wrong signature", check.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownId_ThrowsListingTheIds()
    {
        var e = Assert.Throws<ArgumentException>(() => Exercise.Check("9.9", (Func<float[], float[]>)(x => x)));
        Assert.Contains("3.1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_WithTorchTwin_ComparesThreeWays()
    {
        float[] TorchLayerNorm(float[] x, float[] gamma, float[] beta, int n, int c, float eps)
        {
            using var tx = TorchInterop.ToTensor(x, [n, c]);
            using var tg = TorchInterop.ToTensor(gamma, [c]);
            using var tb = TorchInterop.ToTensor(beta, [c]);
            using var ty = torch.nn.functional.layer_norm(tx, [c], tg, tb, eps);
            return TorchInterop.ToArray(ty);
        }

        var library = (Func<float[], float[], float[], int, int, float, float[]>)ExerciseCatalog.Get("3.1").Library;
        ExerciseCheck check = Exercise.Check("3.1", library, TorchLayerNorm);
        Assert.True(check.Passed);
        Assert.NotNull(check.Torch);
        Assert.Equal(ExerciseStatus.Passed, check.Torch!.Status);
        Assert.Contains("TorchSharp:", check.ToString(), StringComparison.Ordinal);
        Assert.Contains("<th>TorchSharp</th>", check.ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public void Use_WrongDelegateType_ThrowsNamingTheSignature()
    {
        var e = Assert.Throws<ArgumentException>(() => Exercise.Use<Func<float[], float[]>>("3.1", x => x));
        Assert.Contains("LayerNormForward", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(2.5, 0.9995930479825550)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(-1.0, -0.8427007929497149)]
    [InlineData(6.0, 1.0)]
    public void Erf_KnownValues_MatchToDoublePrecision(double x, double expected)
    {
        Assert.Equal(expected, ExerciseMath.Erf(x), 1e-15);
    }
}

/// <summary>Tests that redirect the process-wide console (Use prints which implementation it chose).</summary>
[CollectionDefinition(nameof(ProcessConsole), DisableParallelization = true)]
public sealed class ProcessConsole;

[Collection(nameof(ProcessConsole))]
public class ExerciseUseTests
{
    private static (T Result, string Output) Capture<T>(Func<T> action)
    {
        TextWriter previous = Console.Out;
        var writer = new StringWriter();
        Console.SetOut(writer);
        try
        {
            return (action(), writer.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    [Fact]
    public void Use_Stub_ReturnsLibraryAndSaysSo()
    {
        Func<float[], float[], int, int, float[]> stub = (x, b, n, c) => throw new NotImplementedException("Exercise 7.1");
        (var chosen, string output) = Capture(() => Exercise.Use("7.1", stub));
        Assert.Same(ExerciseCatalog.Get("7.1").Library, chosen);
        Assert.Contains("not done yet: using the library's implementation", output, StringComparison.Ordinal);
        Assert.Equal(ExerciseStatus.Passed, ExerciseCatalog.Get("7.1").Evaluate(chosen, includeHidden: true).Status);
    }

    [Fact]
    public void Use_WrongAnswer_ReturnsLibraryAndSaysHowManyChecksPass()
    {
        Func<int, int, int, float, float, float> constant = (s, w, t, max, min) => max;
        (var chosen, string output) = Capture(() => Exercise.Use("5.1", constant));
        Assert.NotSame(constant, chosen);
        Assert.Contains("passes 0/2 checks", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Use_CorrectAnswer_ReturnsTheLearnersFunction()
    {
        Func<float[], float[]> mine = x => Array.ConvertAll(x, v => (float)(0.5 * v * (1 + ExerciseMath.Erf(v / Math.Sqrt(2)))));
        (var chosen, string output) = Capture(() => Exercise.Use("2.1", mine));
        Assert.Same(mine, chosen);
        Assert.Contains("using your GeluForward", output, StringComparison.Ordinal);
    }
}

/// <summary>Every mistake detector can fire in the check cell: its model fails the visible cases and gets its own hint.</summary>
public class MistakeDetectorTests
{
    public static TheoryData<string, string> Mistakes()
    {
        var data = new TheoryData<string, string>();
        foreach (ExerciseSpec e in ExerciseCatalog.All)
        {
            foreach (string m in e.MistakeNames)
            {
                data.Add(e.Id, m);
            }
        }

        return data;
    }

    [Fact]
    public void Catalog_EveryExercise_HasAtLeastTwoMistakeDetectors()
    {
        Assert.All(ExerciseCatalog.All, e => Assert.True(e.MistakeNames.Count >= 2, e.Id));
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void MistakeModel_VisibleCases_FailsWithAHint(string id, string mistake)
    {
        ExerciseSpec spec = ExerciseCatalog.Get(id);
        ExerciseEvaluation eval = spec.EvaluateMistake(mistake, includeHidden: false);
        Assert.NotEqual(ExerciseStatus.Passed, eval.Status);
        Assert.Contains(spec.HintFor(mistake), eval.Hints);
        Assert.True(eval.Score < eval.Points);
    }
}
