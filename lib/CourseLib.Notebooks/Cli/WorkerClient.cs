using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using CourseLib.Notebooks.Model;
using CourseLib.Torch;

namespace CourseLib.Notebooks.Cli;

/// <summary>
/// Runs one notebook in a worker process (this program's hidden <c>worker</c> verb) and watches it: a cell that
/// runs longer than the timeout gets the worker killed and is reported as failed, and a worker that dies is
/// reported on the cell it was running. Either way the cells that finished keep their results.
/// </summary>
public sealed class WorkerClient
{
    private static readonly TimeSpan s_startupAllowance = TimeSpan.FromSeconds(60);

    private readonly TimeSpan _cellTimeout;
    private readonly string? _nugetCache;

    /// <summary>Creates a client with a per-cell timeout and an optional NuGet cache folder for the workers.</summary>
    public WorkerClient(TimeSpan cellTimeout, string? nugetCache = null)
    {
        if (cellTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(cellTimeout), cellTimeout, "The cell timeout must be positive.");
        }

        _cellTimeout = cellTimeout;
        _nugetCache = nugetCache;
    }

    /// <summary>How often <c>onStillRunning</c> is called while one cell keeps running.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs the notebook; <paramref name="onEvent"/> sees every progress event as it arrives, and
    /// <paramref name="onStillRunning"/> is told every <see cref="HeartbeatInterval"/> how long the current cell has run.
    /// </summary>
    public NotebookResult Run(NotebookDocument document, string resultPath, Action<WorkerEvent>? onEvent = null, Action<TimeSpan>? onStillRunning = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var clock = Stopwatch.StartNew();
        if (File.Exists(resultPath))
        {
            File.Delete(resultPath);
        }

        ProcessStartInfo psi = CreateStartInfo(document.Path, resultPath);
        var events = new BlockingCollection<WorkerEvent>();
        var stderr = new ConcurrentQueue<string>();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                // End of the worker's stdout: it exited (or closed it), and no event can follow.
                events.CompleteAdding();
            }
            else if (WorkerEvent.TryParse(e.Data) is { } ev)
            {
                events.Add(ev);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                stderr.Enqueue(e.Data);
                while (stderr.Count > 40 && stderr.TryDequeue(out string? _))
                {
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var finished = new Dictionary<int, CellResult>();
        int? running = null;
        var runningClock = new Stopwatch();
        // Before the first cell the worker starts .NET and warms up the compiler: allow for a busy machine.
        DateTime deadline = DateTime.UtcNow + _cellTimeout + s_startupAllowance;
        bool timedOut = false;
        while (!events.IsCompleted)
        {
            TimeSpan wait = deadline - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                break;
            }

            if (running is not null)
            {
                TimeSpan nextBeat = HeartbeatInterval - TimeSpan.FromTicks(runningClock.Elapsed.Ticks % HeartbeatInterval.Ticks);
                if (nextBeat < wait)
                {
                    wait = nextBeat;
                }
            }

            if (!events.TryTake(out WorkerEvent? ev, wait))
            {
                if (running is not null && runningClock.Elapsed >= HeartbeatInterval)
                {
                    onStillRunning?.Invoke(runningClock.Elapsed);
                }
            }
            else
            {
                onEvent?.Invoke(ev);
                if (ev.Type == "started")
                {
                    running = ev.Cell;
                    runningClock.Restart();
                    deadline = DateTime.UtcNow + _cellTimeout;
                }
                else if (ev.Result is not null)
                {
                    finished[ev.Cell] = ev.Result;
                    running = null;
                    // Time between cells (or after the last one) is the runner's own work: allow it the same budget.
                    deadline = DateTime.UtcNow + _cellTimeout;
                }
            }
        }

        process.WaitForExit();
        if (!timedOut && process.ExitCode == 0 && File.Exists(resultPath))
        {
            return ResultJson.Read(resultPath);
        }

        string reason = timedOut
            ? $"the cell ran longer than the {_cellTimeout.TotalSeconds:0.###} s cell timeout and was stopped."
            : $"the worker process exited with code {process.ExitCode}.\n{string.Join("\n", stderr)}".TrimEnd();
        NotebookResult result = Synthesize(document, finished, running, runningClock.Elapsed, timedOut ? "timeout" : "exception", reason, clock.Elapsed);
        ResultJson.Write(result, resultPath);
        return result;
    }

    private ProcessStartInfo CreateStartInfo(string notebook, string resultPath)
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's executable to start a worker.");
        var psi = new ProcessStartInfo(exe)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = Path.GetDirectoryName(notebook) ?? Directory.GetCurrentDirectory(),
        };

        // Under `dotnet CourseLib.Notebooks.dll` (and under the test host) the executable is dotnet itself.
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(WorkerClient).Assembly.Location);
        }
        else if (!Path.GetFileNameWithoutExtension(exe).Equals("CourseLib.Notebooks", StringComparison.OrdinalIgnoreCase))
        {
            // Hosted by something else (a test host): run our own assembly with dotnet.
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(typeof(WorkerClient).Assembly.Location);
        }

        psi.ArgumentList.Add(CommandLine.WorkerVerb);
        psi.ArgumentList.Add(notebook);
        psi.ArgumentList.Add(Path.GetFullPath(resultPath));
        if (_nugetCache is not null)
        {
            psi.ArgumentList.Add(_nugetCache);
        }

        // libtorch needs the glibcxx wrapper on Debian 12; it must be in the environment when the process starts.
        NativeShim.ApplyTo(psi);
        return psi;
    }

    private static NotebookResult Synthesize(
        NotebookDocument document, Dictionary<int, CellResult> finished, int? running, TimeSpan runningFor, string kind, string reason, TimeSpan elapsed)
    {
        var cells = new List<CellResult>();
        bool failedOne = false;
        foreach (NotebookCell cell in document.Cells)
        {
            if (finished.TryGetValue(cell.Number, out CellResult? done))
            {
                cells.Add(done);
                failedOne |= done.Status == CellStatus.Failed;
            }
            else if (!failedOne && (running == cell.Number || running is null))
            {
                string message = $"{document.Path}: cell {cell.Number}: {reason}";
                cells.Add(new CellResult(cell.Number, CellStatus.Failed, [], runningFor.TotalSeconds, new CellError(kind, message, null, cell.FirstLine)));
                failedOne = true;
            }
            else
            {
                cells.Add(new CellResult(cell.Number, CellStatus.NotRun, [], 0));
            }
        }

        string? fatal = failedOne ? null : $"{document.Path}: {reason}";
        return new NotebookResult(document, cells, elapsed.TotalSeconds, fatal);
    }
}
