using CourseLib.Checks;
using CourseLib.Interactive.Exercises;
using CourseLib.Notebooks.Execution;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Tests.Grading;

/// <summary>
/// The sample notebook, stubs as committed, runs to the end through the runner: check cells report "not attempted"
/// and the cells after them fall back on the library, saying so.
/// </summary>
[Collection(nameof(ProcessConsole))]
public class SampleNotebookRunTests
{
    [Fact]
    public void Run_SampleNotebookWithStubs_EveryCellSucceedsOnTheLibraryFallback()
    {
        string dir = Path.Combine(Path.GetTempPath(), "courselib-exercises-run-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // The committed #r paths point at the Debug build from the notebook's folder; point them at the
            // assemblies this test runs with, so the test holds for any configuration.
            string text = File.ReadAllText(GradingPaths.SampleNotebook)
                .Replace("../../../../artifacts/bin/CourseLib/debug/CourseLib.dll", typeof(GradientChecker).Assembly.Location, StringComparison.Ordinal)
                .Replace("../../../../artifacts/bin/CourseLib.Interactive/debug/CourseLib.Interactive.dll", typeof(Exercise).Assembly.Location, StringComparison.Ordinal);
            string path = Path.Combine(dir, "exercises.dib");
            File.WriteAllText(path, text);
            NotebookDocument doc = DibParser.Parse(text, path);

            NotebookResult result = new NotebookExecutor(new NuGetRestorer(Path.Combine(dir, "nuget"))).Run(doc);

            CellResult? failed = result.Cells.FirstOrDefault(c => c.Status != CellStatus.Succeeded);
            Assert.True(result.Succeeded, failed is null ? result.FatalError : $"cell {failed.Number}: {failed.Error}");
            string[] outputs = result.Cells.SelectMany(c => c.Outputs).Select(o => o.Value).ToArray();
            foreach (ExerciseSpec spec in ExerciseCatalog.All)
            {
                Assert.Contains(outputs, o => o.Contains($"Exercise {spec.Id}", StringComparison.Ordinal) && o.Contains("not attempted yet", StringComparison.Ordinal));
                Assert.Contains(outputs, o => o.Contains($"Exercise {spec.Id} ({spec.Title}) is not done yet: using the library's implementation", StringComparison.Ordinal));
            }

            // The library's answers flow on: LayerNorm of the row [1, 2] is [−1, 1].
            Assert.Contains(outputs, o => o.Contains("LayerNorm rows: [-1.000, 1.000, -1.000, 1.000]", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
