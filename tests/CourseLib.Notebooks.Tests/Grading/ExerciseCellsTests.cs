using CourseLib.Notebooks.Grading;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Tests.Grading;

public class ExerciseCellsTests
{
    [Theory]
    [InlineData("// Exercise 3.1: LayerNorm forward", "3.1")]
    [InlineData("  //Exercise 12.10:x", "12.10")]
    [InlineData("// Exercise 3.1 : spaced", "3.1")]
    [InlineData("// Exercise 3: no number", null)]
    [InlineData("// exercise 3.1: lower case", null)]
    [InlineData("var x = 1; // Exercise 3.1: not first", null)]
    public void MarkerId_Line_IdOrNull(string line, string? id)
    {
        Assert.Equal(id, ExerciseCells.MarkerId(line));
    }

    [Fact]
    public void FromFile_SampleNotebook_FirstLineIsTheMarkerInTheFile()
    {
        string[] fileLines = File.ReadAllLines(GradingPaths.SampleNotebook);
        IReadOnlyList<ExerciseSubmission> cells = GradingPaths.SampleSubmissions();
        Assert.All(cells, s =>
        {
            Assert.Equal(s.Id, ExerciseCells.MarkerId(fileLines[s.FirstLine - 1]));
            Assert.StartsWith("// Exercise " + s.Id, s.Source, StringComparison.Ordinal);
        });
        Assert.Contains("using CourseLib.Interactive.Exercises;", cells[0].Usings);
    }

    [Fact]
    public void FromDocument_MarkerInMarkdownOrLaterLine_NotAnExercise()
    {
        const string dib = "#!markdown\n\n// Exercise 1.1: in markdown\n\n#!csharp\n\nvar a = 1;\n// Exercise 1.1: second line\n\n#!csharp\n\n\n// Exercise 2.1: GELU\nfloat[] GeluForward(float[] x) => x;\n";
        IReadOnlyList<ExerciseSubmission> cells = ExerciseCells.FromDocument(DibParser.Parse(dib, "/tmp/x.dib"));
        ExerciseSubmission only = Assert.Single(cells);
        Assert.Equal("2.1", only.Id);
        Assert.Equal(13, only.FirstLine);
    }
}
