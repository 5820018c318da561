using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CourseLib.Interactive.Exercises;

namespace CourseLib.Notebooks.Grading;

/// <summary>
/// Grades submissions in worker processes, one exercise after another in the same worker while all goes well.
/// When an exercise's code runs past the time limit the worker is killed and the exercise scores "timeout";
/// when the worker dies (a stack overflow, say) the exercise fails with what the process printed. Either way a
/// new worker takes the remaining exercises, so one exercise never stops the others.
/// </summary>
internal sealed class GradeWorkerClient(TimeSpan exerciseTimeout, TimeSpan compileTimeout)
{
    public IReadOnlyList<ExerciseGrade> Grade(IReadOnlyList<ExerciseSubmission> submissions, Action<ExerciseGrade>? progress = null)
    {
        var grades = new ExerciseGrade?[submissions.Count];
        int next = 0;
        while (next < submissions.Count)
        {
            int start = next;
            next = RunWorker(submissions, start, grades, progress);
        }

        return grades.Select(g => g!).ToArray();
    }

    // Runs one worker on submissions[start..]; returns the index of the first submission still to grade.
    private int RunWorker(IReadOnlyList<ExerciseSubmission> all, int start, ExerciseGrade?[] grades, Action<ExerciseGrade>? progress)
    {
        ExerciseSubmission[] batch = all.Skip(start).ToArray();
        string requestFile = Path.Combine(Path.GetTempPath(), $"courselib-grade-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(requestFile, JsonSerializer.Serialize(new WorkerRequest(batch), GradeWorker.Json));
        var lines = new BlockingCollection<string?>();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = GradeWorkerHost.StartInfo(requestFile) };
        process.OutputDataReceived += (_, e) => lines.Add(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    // Keep the tail: a crash message comes last, and learner prints can be long.
                    stderr.AppendLine(e.Data);
                    if (stderr.Length > 8000)
                    {
                        stderr.Remove(0, stderr.Length - 8000);
                    }
                }
            }
        };

        int current = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            try
            {
                process.Start();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                // No worker, no grading: say so for every exercise left rather than crash the report.
                for (; current < batch.Length; current++)
                {
                    Record(ExerciseGrade.WithoutCases(batch[current], ExerciseStatus.Failed,
                        $"Could not start the grading process ({process.StartInfo.FileName}): {e.Message}", null, 0));
                }

                return start + current;
            }

            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            DateTime deadline = DateTime.UtcNow + compileTimeout;
            bool running = false;
            while (current < batch.Length)
            {
                TimeSpan wait = deadline - DateTime.UtcNow;
                if (wait < TimeSpan.Zero || !lines.TryTake(out string? line, wait))
                {
                    Kill(process);
                    string what = running
                        ? $"Stopped after {exerciseTimeout.TotalSeconds:0.#} s: the code did not finish (an infinite loop, or far too slow)."
                        : $"Compiling took longer than {compileTimeout.TotalSeconds:0.#} s.";
                    Record(ExerciseGrade.WithoutCases(batch[current], ExerciseStatus.Timeout, what, null, clock.Elapsed.TotalSeconds));
                    return start + current + 1;
                }

                if (line is null)
                {
                    // End of output: the worker exited before reporting this exercise.
                    process.WaitForExit();
                    string tail;
                    lock (stderr)
                    {
                        tail = stderr.ToString().Trim();
                    }

                    string message = $"The grading process stopped while running this exercise (exit code {process.ExitCode})"
                        + (tail.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase) ? ": stack overflow — look for unbounded recursion." : ".")
                        + (tail.Length > 0 ? "\n" + LastLines(tail, 6) : "");
                    Record(ExerciseGrade.WithoutCases(batch[current], ExerciseStatus.Failed, message, null, clock.Elapsed.TotalSeconds));
                    return start + current + 1;
                }

                if (!line.StartsWith(GradeWorker.Prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                WorkerMessage msg = JsonSerializer.Deserialize<WorkerMessage>(line[GradeWorker.Prefix.Length..], GradeWorker.Json)!;
                if (msg.Event == "compiled")
                {
                    running = true;
                    deadline = DateTime.UtcNow + exerciseTimeout;
                }
                else if (msg.Event == "result" && msg.Grade is not null)
                {
                    Record(msg.Grade with { Notebook = batch[current].NotebookPath });
                    current++;
                    running = false;
                    clock.Restart();
                    deadline = DateTime.UtcNow + compileTimeout;
                }
            }

            process.WaitForExit(5000);
            return start + current;
        }
        finally
        {
            Kill(process);
            TryDelete(requestFile);
        }

        void Record(ExerciseGrade g)
        {
            grades[start + current] = g;
            progress?.Invoke(g);
        }
    }

    private static string LastLines(string text, int count)
    {
        string[] lines = text.Split('\n');
        return string.Join("\n", lines.Skip(Math.Max(0, lines.Length - count)));
    }

    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover request file in the temp folder is harmless.
        }
    }
}
