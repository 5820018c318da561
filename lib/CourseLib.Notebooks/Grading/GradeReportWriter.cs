using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CourseLib.Interactive.Exercises;

namespace CourseLib.Notebooks.Grading;

/// <summary>Writes a <see cref="GradeReport"/> as a console table, as Markdown and as JSON.</summary>
public static class GradeReportWriter
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The score table per lesson and exercise, then the details of every exercise that did not pass.</summary>
    /// <param name="report">What to print.</param>
    /// <param name="baseDirectory">Notebook paths are shown relative to this folder.</param>
    public static string ToText(GradeReport report, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        const string Row = "{0,-7}{1,-9}{2,-36}{3,-15}{4,9}  {5}";
        sb.AppendLine(string.Format(CultureInfo.InvariantCulture, Row, "Lesson", "Exercise", "Title", "Status", "Score", "Notebook"));
        foreach (IGrouping<int, ExerciseGrade> lesson in report.Exercises.GroupBy(e => e.Lesson).OrderBy(g => g.Key))
        {
            foreach (ExerciseGrade e in lesson)
            {
                sb.AppendLine(string.Format(CultureInfo.InvariantCulture, Row, e.Lesson, e.Id, Clip(e.Title, 35), e.StatusText,
                    Points(e.Score, e.Points), Relative(e.Notebook, baseDirectory)));
            }

            sb.AppendLine(string.Format(CultureInfo.InvariantCulture, Row, "", "", $"lesson {lesson.Key} total", "",
                Points(lesson.Sum(e => e.Score), lesson.Sum(e => e.Points)), ""));
        }

        sb.AppendLine(string.Format(CultureInfo.InvariantCulture, Row, "Total", "", "", "", Points(report.Score, report.Points),
            report.Points > 0 ? (100 * report.Score / report.Points).ToString("0", CultureInfo.InvariantCulture) + "%" : ""));

        foreach (ExerciseGrade e in report.Exercises.Where(e => e.Status != ExerciseStatus.Passed))
        {
            sb.AppendLine();
            sb.Append(CultureInfo.InvariantCulture, $"{e.Id} {e.Title} — {e.StatusText}");
            if (e.TotalCases > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $", {e.PassedCases}/{e.TotalCases} cases");
            }

            if (e.MaxError is double err)
            {
                sb.Append(CultureInfo.InvariantCulture, $", largest error {err:0.0e+00}");
            }

            sb.AppendLine();
            if (e.Message is not null)
            {
                string where = e.Line is int line ? $"{Relative(e.Notebook, baseDirectory)}:{line}: " : "";
                foreach (string l in e.Message.Split('\n'))
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  {where}{l}");
                    where = "";
                }
            }

            foreach (string h in e.Hints)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  Hint: {h}");
            }
        }

        foreach (string error in report.Errors)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"error: {error}");
        }

        return sb.ToString();
    }

    /// <summary>The same report as Markdown: a table per lesson, the total, and details.</summary>
    public static string ToMarkdown(GradeReport report, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.AppendLine("# Grades");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"**Total: {Points(report.Score, report.Points)}**");
        foreach (IGrouping<int, ExerciseGrade> lesson in report.Exercises.GroupBy(e => e.Lesson).OrderBy(g => g.Key))
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"## Lesson {lesson.Key} — {Points(lesson.Sum(e => e.Score), lesson.Sum(e => e.Points))}");
            sb.AppendLine();
            sb.AppendLine("| Exercise | Title | Status | Score | Cases | Largest error | Notebook |");
            sb.AppendLine("|---|---|---|---:|---:|---:|---|");
            foreach (ExerciseGrade e in lesson)
            {
                string cases = e.TotalCases > 0 ? $"{e.PassedCases}/{e.TotalCases}" : "—";
                string err = e.MaxError is double d ? d.ToString("0.0e+00", CultureInfo.InvariantCulture) : "—";
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {e.Id} | {Md(e.Title)} | {e.StatusText} | {Points(e.Score, e.Points)} | {cases} | {err} | {Md(Relative(e.Notebook, baseDirectory))} |");
            }
        }

        var failing = report.Exercises.Where(e => e.Status != ExerciseStatus.Passed).ToArray();
        if (failing.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Details");
            foreach (ExerciseGrade e in failing)
            {
                sb.AppendLine();
                sb.AppendLine(CultureInfo.InvariantCulture, $"### {e.Id} {Md(e.Title)} — {e.StatusText}");
                if (e.Message is not null)
                {
                    sb.AppendLine();
                    sb.AppendLine(CultureInfo.InvariantCulture, $"{Md(Relative(e.Notebook, baseDirectory))}{(e.Line is int l ? $", line {l}" : "")}:");
                    sb.AppendLine();
                    sb.AppendLine("```text");
                    sb.AppendLine(e.Message);
                    sb.AppendLine("```");
                }

                foreach (string h in e.Hints)
                {
                    sb.AppendLine();
                    sb.AppendLine(CultureInfo.InvariantCulture, $"- Hint: {Md(h)}");
                }
            }
        }

        if (report.Errors.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Notebooks that could not be read");
            sb.AppendLine();
            foreach (string error in report.Errors)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {Md(error)}");
            }
        }

        return sb.ToString();
    }

    /// <summary>The report as indented JSON (camelCase; statuses as their enum names).</summary>
    public static string ToJson(GradeReport report) => JsonSerializer.Serialize(report, s_json);

    /// <summary>Writes grades.md and grades.json into <paramref name="folder"/> and returns their paths.</summary>
    public static (string Markdown, string Json) WriteFiles(GradeReport report, string folder, string baseDirectory)
    {
        Directory.CreateDirectory(folder);
        string md = Path.Combine(folder, "grades.md");
        string json = Path.Combine(folder, "grades.json");
        File.WriteAllText(md, ToMarkdown(report, baseDirectory));
        File.WriteAllText(json, ToJson(report));
        return (md, json);
    }

    private static string Points(double score, double points) =>
        $"{score.ToString("0.##", CultureInfo.InvariantCulture)}/{points.ToString("0.##", CultureInfo.InvariantCulture)}";

    private static string Clip(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";

    private static string Md(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Relative(string path, string baseDirectory)
    {
        string rel = Path.GetRelativePath(baseDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }
}
