using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Grading;

/// <summary>Settings of a grading run.</summary>
public sealed record GraderOptions
{
    /// <summary>Time an exercise's code may run (after compiling) before it is stopped; 20 s by default, far above any correct solution.</summary>
    public TimeSpan ExerciseTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Time for starting a worker and compiling one cell; generous because the machine may be busy.</summary>
    public TimeSpan CompileTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Only these exercise ids (empty: all).</summary>
    public IReadOnlyCollection<string> Ids { get; init; } = [];

    /// <summary>
    /// A folder of reference solutions (<c>&lt;id&gt;.csx</c>) to grade instead of the notebook's cells, so CI can
    /// check that every exercise is solvable as specified. Null: grade what the notebook holds.
    /// </summary>
    public string? SolutionsFolder { get; init; }
}

/// <summary>
/// Grades the exercise cells of notebooks: finds each marked cell, compiles it alone, runs it on the exercise's
/// visible and hidden cases in a worker process with a time limit, and collects a <see cref="GradeReport"/>.
/// </summary>
public sealed class Grader(GraderOptions options)
{
    private readonly GraderOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The .dib files named, with folders searched recursively, in a stable order.</summary>
    public static IReadOnlyList<string> ExpandPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<string>();
        foreach (string p in paths)
        {
            if (Directory.Exists(p))
            {
                files.AddRange(Directory.EnumerateFiles(p, "*.dib", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            }
            else
            {
                files.Add(p);
            }
        }

        return files;
    }

    /// <summary>Grades every exercise cell of the given notebooks (files or folders).</summary>
    /// <param name="paths">Notebook files or folders.</param>
    /// <param name="progress">Called after each exercise is graded.</param>
    public GradeReport Grade(IEnumerable<string> paths, Action<ExerciseGrade>? progress = null)
    {
        var submissions = new List<ExerciseSubmission>();
        var errors = new List<string>();
        foreach (string file in ExpandPaths(paths))
        {
            try
            {
                submissions.AddRange(ExerciseCells.FromDocument(DibParser.ParseFile(file)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DibParseException)
            {
                errors.Add($"{file}: {e.Message}");
            }
        }

        return Grade(submissions, errors, progress);
    }

    /// <summary>Grades the given submissions (e.g. cells prepared by a test).</summary>
    public GradeReport Grade(IReadOnlyList<ExerciseSubmission> submissions, IReadOnlyList<string>? errors = null, Action<ExerciseGrade>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(submissions);
        IEnumerable<ExerciseSubmission> selected = submissions;
        if (_options.Ids.Count > 0)
        {
            selected = selected.Where(s => _options.Ids.Contains(s.Id));
        }

        if (_options.SolutionsFolder is { } folder)
        {
            selected = selected.Select(s => WithSolution(s, folder));
        }

        ExerciseSubmission[] list = selected.ToArray();
        var client = new GradeWorkerClient(_options.ExerciseTimeout, _options.CompileTimeout);
        return new GradeReport(list.Length == 0 ? [] : client.Grade(list, progress), errors ?? []);
    }

    /// <summary>The submission with its cell text replaced by the reference solution <c>&lt;folder&gt;/&lt;id&gt;.csx</c>.</summary>
    public static ExerciseSubmission WithSolution(ExerciseSubmission submission, string folder)
    {
        ArgumentNullException.ThrowIfNull(submission);
        string file = Path.Combine(folder, submission.Id + ".csx");
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"No reference solution for exercise {submission.Id}: expected {file}.", file);
        }

        return submission with { Source = File.ReadAllText(file).Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') };
    }
}
