using System.Globalization;
using CourseLib.Notebooks.Cli;

namespace CourseLib.Notebooks.Grading;

/// <summary>
/// The <c>grade</c> verb: <c>CourseLib.Notebooks grade [&lt;notebook.dib | folder&gt;...] [options]</c>.
/// Wire it into the command line as <c>case "grade": return GradeCommand.Run(args[1..], Console.Out);</c>.
/// </summary>
public static class GradeCommand
{
    /// <summary>Usage text of the verb.</summary>
    public const string Help = """
        grade  Grades the exercise cells (first line `// Exercise <id>: <title>`) of the notebooks: each is compiled
               alone and run on the exercise's visible and hidden cases in a worker process with a time limit.
               Prints a score table per lesson and exercise, and writes artifacts/grades/grades.md and grades.json.
               Default: notebooks/ under the repository root. Exit code: 0 if every exercise passed, 1 otherwise,
               2 for bad arguments.

        Options:
          --id <id>                  Grade only this exercise (repeatable), e.g. --id 3.1.
          --timeout <seconds>        Time an exercise's code may run before it is stopped (default 20).
          --solutions <folder>       Grade the reference solutions <folder>/<id>.csx in place of the cells.
          --out <folder>             Write grades.md and grades.json there instead of artifacts/grades/.
        """;

    /// <summary>Runs the verb with its arguments (without "grade") and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var paths = new List<string>();
        var ids = new List<string>();
        var options = new GraderOptions();
        string? outDir = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                switch (a)
                {
                    case "-h" or "--help":
                        output.WriteLine(Help);
                        return 0;
                    case "--id":
                        ids.Add(Value(args, ref i, a));
                        break;
                    case "--timeout":
                        options = options with { ExerciseTimeout = TimeSpan.FromSeconds(Seconds(Value(args, ref i, a))) };
                        break;
                    case "--solutions":
                        options = options with { SolutionsFolder = Path.GetFullPath(Value(args, ref i, a)) };
                        break;
                    case "--out":
                        outDir = Value(args, ref i, a);
                        break;
                    default:
                        if (a.StartsWith('-'))
                        {
                            throw new ArgumentException($"unknown option '{a}' (see grade --help)");
                        }

                        if (!File.Exists(a) && !Directory.Exists(a))
                        {
                            throw new ArgumentException($"no such notebook or folder: {a}");
                        }

                        paths.Add(a);
                        break;
                }
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }

        string? root = RepositoryRoot.Find();
        if (paths.Count == 0)
        {
            if (root is null)
            {
                Console.Error.WriteLine("error: no notebooks given and no repository root (CourseLib.sln) above the current folder.");
                return 2;
            }

            paths.Add(Path.Combine(root, "notebooks"));
        }

        options = options with { Ids = ids };
        string baseDir = Directory.GetCurrentDirectory();
        var grader = new Grader(options);
        GradeReport report = grader.Grade(paths, g =>
            output.WriteLine($"  graded {g.Id} {g.Title}: {g.StatusText} ({g.Score.ToString("0.##", CultureInfo.InvariantCulture)}/{g.Points.ToString("0.##", CultureInfo.InvariantCulture)}, {g.Seconds:0.0} s)"));
        output.WriteLine();
        output.Write(GradeReportWriter.ToText(report, baseDir));
        string folder = outDir ?? Path.Combine(root ?? baseDir, "artifacts", "grades");
        (string md, string json) = GradeReportWriter.WriteFiles(report, folder, baseDir);
        output.WriteLine();
        output.WriteLine($"Wrote {Path.GetRelativePath(baseDir, md)} and {Path.GetRelativePath(baseDir, json)}.");
        if (report.Exercises.Count == 0)
        {
            output.WriteLine("No exercise cells found (a cell whose first line is `// Exercise <id>: <title>`).");
        }

        return report.Errors.Count == 0 && report.Exercises.Count > 0 && report.Exercises.All(e => e.Status == Interactive.Exercises.ExerciseStatus.Passed) ? 0 : 1;
    }

    private static string Value(string[] args, ref int i, string option) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{option} needs a value");

    private static double Seconds(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v : throw new ArgumentException($"--timeout needs a positive number of seconds, got '{s}'");
}
