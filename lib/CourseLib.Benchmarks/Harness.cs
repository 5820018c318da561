using System.Diagnostics;
using System.Globalization;
using System.Text;
using CourseLib.Kernels;
using CourseLib.Torch;
using TorchSharp;

namespace CourseLib.Benchmarks;

/// <summary>One row of the table: medians per call of both sides, and what ours allocated per call.</summary>
internal sealed record Result(string Op, string Shape, int Threads, double OursSeconds, double TorchSeconds, double Bytes, double Flops, double AllocPerCall, int Calls)
{
    public double Ratio => OursSeconds / TorchSeconds;
}

/// <summary>
/// Finds every <see cref="IBenchmarkSuite"/>, runs each case with each thread count, ours and libtorch interleaved
/// (k calls of one, k calls of the other, alternating which goes first, many rounds), and reports medians.
/// Interleaving matters on a shared machine: a burst of load from elsewhere hits both sides alike, and the
/// median ignores the rounds it spoilt.
/// </summary>
internal static class Harness
{
    public static int Run(BenchmarkOptions options)
    {
        string torchVersion = TorchRuntime.Initialize();
        Machine? machine = options.MeasureMachine ? Machine.Measure(options.Threads.Max(), options.IsQuick, options.CpuTime ? ThreadCpuSeconds : WallSeconds) : null;
        var header = new StringBuilder();
        header.AppendLine(CultureInfo.InvariantCulture, $"libtorch {torchVersion} (TorchSharp), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.IsQuick ? ", --quick" : "")}{(options.CpuTime ? ", 1-thread rows timed in thread CPU time (--cpu-time)" : "")}{(options.Blocks ? ", each side timed in its own block of rounds (--blocks)" : "")}");
        if (machine is not null)
        {
            header.AppendLine(machine.ToString());
        }

        Console.WriteLine(header.ToString());
        Console.WriteLine(Row.Header);
        Console.WriteLine(Row.Rule);

        var results = new List<Result>();
        int restoreThreads = KernelThreads.Max;
        foreach (IBenchmarkSuite suite in DiscoverSuites())
        {
            bool suiteMatches = options.Matches(suite.Name);
            foreach (BenchmarkCase c in suite.Cases())
            {
                using (c)
                {
                    if (!suiteMatches && !options.Matches(c.Op))
                    {
                        continue;
                    }

                    foreach (int t in options.Threads)
                    {
                        KernelThreads.Max = t;
                        torch.set_num_threads(t);
                        Result r = Measure(c, t, options.IsQuick, options.CpuTime && t == 1, options.Blocks);
                        results.Add(r);
                        Console.WriteLine(Row.Format(r));
                    }
                }
            }
        }

        KernelThreads.Max = restoreThreads;
        string file = options.OutFile ?? Path.Combine(RepositoryRoot(), "artifacts", "benchmarks", "results.md");
        WriteMarkdown(file, header.ToString(), results, options.Blocks);
        Console.WriteLine();
        Console.WriteLine($"{results.Count} measurements; Markdown table written to {file}");
        return 0;
    }

    private static IEnumerable<IBenchmarkSuite> DiscoverSuites() =>
        typeof(Harness).Assembly.GetTypes()
            .Where(t => typeof(IBenchmarkSuite).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (IBenchmarkSuite)Activator.CreateInstance(t)!);

    private static Result Measure(BenchmarkCase c, int threads, bool quick, bool cpuTime, bool blocks)
    {
        Func<double> clock = cpuTime ? ThreadCpuSeconds : WallSeconds;
        // Warm-up: JIT tiers, packing buffers, libtorch's thread pool and allocator; also the per-call estimate.
        // A full run's 3 s of rounds absorbs the JIT's tier-up in the median; a --quick run times a few rounds only,
        // so its warm-up must cover the tier-up itself: with 0.05 s (and still with 0.25 s) a whole training step ran
        // partly unoptimised and timed 2.4× slower than it runs (6,636 vs 2,700 µs); with 1 s it timed 2,898.
        double warm = quick ? 1.0 : 0.25;
        double ours = Warm(c.Ours, warm, clock), theirs = Warm(c.Torch, warm, clock);

        // k calls per timed batch so one batch lasts ~2 ms (timer noise ≪ 1 %), rounds to fill the time budget.
        double slower = Math.Max(ours, theirs);
        int k = (int)Math.Clamp(0.002 / slower, 1, 10_000);
        double budget = quick ? 0.4 : 3.0;
        int rounds = (int)Math.Clamp(budget / ((ours + theirs) * k), quick ? 3 : 9, quick ? 30 : 300);

        var oursTimes = new double[rounds];
        var torchTimes = new double[rounds];
        long allocated = 0;
        if (blocks)
        {
            // Each side alone. Interleaved on 2 threads, the libraries slow each other down (measured: our LayerNorm
            // 512×256 takes 48 µs per call right after libtorch calls, 22 µs without); the mechanism is not known
            // (neither side's idle threads spin for long). See the README for when to trust which mode.
            for (int r = 0; r < rounds; r++)
            {
                oursTimes[r] = TimeOurs(c.Ours, k, clock, ref allocated);
            }

            for (int r = 0; r < rounds; r++)
            {
                torchTimes[r] = Time(c.Torch, k, clock);
            }
        }
        else
        {
            for (int r = 0; r < rounds; r++)
            {
                if ((r & 1) == 0)
                {
                    oursTimes[r] = TimeOurs(c.Ours, k, clock, ref allocated);
                    torchTimes[r] = Time(c.Torch, k, clock);
                }
                else
                {
                    torchTimes[r] = Time(c.Torch, k, clock);
                    oursTimes[r] = TimeOurs(c.Ours, k, clock, ref allocated);
                }
            }
        }

        return new Result(c.Op, c.Shape, threads, Median(oursTimes), Median(torchTimes), c.Bytes, c.Flops,
            (double)allocated / ((long)rounds * k), rounds * k);
    }

    private static double Warm(Action action, double seconds, Func<double> clock)
    {
        int calls = 0;
        long start = Stopwatch.GetTimestamp();
        double elapsed;
        do
        {
            action();
            calls++;
            elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        while (calls < 3 || elapsed < seconds);

        // Time a few more now that everything is warm; the first calls include JIT and first-touch costs.
        return Time(action, Math.Max(1, Math.Min(calls, 3)), clock);
    }

    private static double TimeOurs(Action action, int k, Func<double> clock, ref long allocated)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        double t = Time(action, k, clock);
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        return t;
    }

    private static double Time(Action action, int k, Func<double> clock)
    {
        double start = clock();
        for (int i = 0; i < k; i++)
        {
            action();
        }

        return (clock() - start) / k;
    }

    private static double WallSeconds() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>
    /// CPU time of this thread (Linux CLOCK_THREAD_CPUTIME_ID): excludes the time other processes hold the core,
    /// so single-threaded comparisons stay meaningful on a busy machine. Only valid when all the work runs on the
    /// calling thread (1 thread on both sides: libtorch runs inline with torch.set_num_threads(1)).
    /// </summary>
    private static unsafe double ThreadCpuSeconds()
    {
        long* ts = stackalloc long[2];
        return ClockGetTime(3, ts) == 0 ? ts[0] + (ts[1] * 1e-9) : WallSeconds();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern unsafe int ClockGetTime(int clock, long* timespec);

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[(n / 2) - 1] + values[n / 2]);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CourseLib.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static void WriteMarkdown(string file, string header, List<Result> results, bool blocks)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var md = new StringBuilder();
        md.AppendLine("# CourseLib kernels vs libtorch");
        md.AppendLine();
        foreach (string line in header.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }

        md.AppendLine();
        md.AppendLine(blocks
            ? "Median time per call, ours and libtorch in one process, each in its own block of rounds; ratio = ours / libtorch (< 1 is faster)."
            : "Median time per call, ours and libtorch interleaved in one process; ratio = ours / libtorch (< 1 is faster).");
        md.AppendLine("Throughput: GFLOP/s where the op counts FLOPs, else GB/s of minimum memory traffic. Allocations: managed bytes per call of ours on the calling thread.");
        md.AppendLine();
        md.AppendLine("| op | shape | threads | ours µs | torch µs | ours/torch | ours | torch | alloc B/call |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Result r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Op} | {r.Shape} | {r.Threads} | {r.OursSeconds * 1e6:F1} | {r.TorchSeconds * 1e6:F1} | {r.Ratio:F2} | {Row.Throughput(r, r.OursSeconds)} | {Row.Throughput(r, r.TorchSeconds)} | {r.AllocPerCall:F0} |");
        }

        File.WriteAllText(file, md.ToString());
    }

    private static class Row
    {
        public static readonly string Header = string.Format(CultureInfo.InvariantCulture,
            "{0,-22} {1,-22} {2,3} {3,11} {4,11} {5,7} {6,14} {7,14} {8,9}", "op", "shape", "thr", "ours µs", "torch µs", "ratio", "ours", "torch", "alloc B");

        public static readonly string Rule = new('-', Header.Length);

        public static string Format(Result r) => string.Format(CultureInfo.InvariantCulture,
            "{0,-22} {1,-22} {2,3} {3,11:F1} {4,11:F1} {5,7:F2} {6,14} {7,14} {8,9:F0}",
            r.Op, r.Shape, r.Threads, r.OursSeconds * 1e6, r.TorchSeconds * 1e6, r.Ratio, Throughput(r, r.OursSeconds), Throughput(r, r.TorchSeconds), r.AllocPerCall);

        public static string Throughput(Result r, double seconds) =>
            r.Flops > 0 ? string.Format(CultureInfo.InvariantCulture, "{0:F1} GFLOP/s", r.Flops / seconds / 1e9)
            : r.Bytes > 0 ? string.Format(CultureInfo.InvariantCulture, "{0:F1} GB/s", r.Bytes / seconds / 1e9)
            : "-";
    }
}
