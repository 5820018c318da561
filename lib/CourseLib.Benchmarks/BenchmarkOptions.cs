using System.Globalization;

namespace CourseLib.Benchmarks;

/// <summary>Command-line options of the benchmark run.</summary>
internal sealed class BenchmarkOptions
{
    public const string Usage =
        "usage: CourseLib.Benchmarks [--filter <op>] [--quick] [--threads 1,2] [--out <file.md>] [--no-machine]\n" +
        "  --filter <op>   only suites or cases whose name contains <op> (case-insensitive), e.g. Linear\n" +
        "  --quick         fewer shapes and rounds (CI smoke run)\n" +
        "  --threads 1,2   thread counts to run each case with (KernelThreads.Max and torch.set_num_threads)\n" +
        "  --out <file>    Markdown table (default artifacts/benchmarks/results.md under the repository)\n" +
        "  --no-machine    skip the bandwidth and FMA-peak measurements\n" +
        "  --cpu-time      time 1-thread rows in thread CPU time, not wall time (robust on a busy machine; Linux)\n" +
        "  --blocks        time all of ours' rounds, then all of libtorch's, instead of alternating batches: after a\n" +
        "                  libtorch call, our multi-threaded kernels run at about half speed for a while (see Harness)";

    /// <summary>Set once at start-up: suites read it to offer fewer shapes in a smoke run.</summary>
    public static bool Quick { get; private set; }

    public string? Filter { get; private init; }

    public bool IsQuick { get; private init; }

    public IReadOnlyList<int> Threads { get; private init; } = [1, 2];

    public string? OutFile { get; private init; }

    public bool MeasureMachine { get; private init; } = true;

    public bool Help { get; private init; }

    public bool CpuTime { get; private init; }

    public bool Blocks { get; private init; }

    public static BenchmarkOptions Parse(string[] args)
    {
        string? filter = null, outFile = null;
        bool quick = false, help = false, machine = true, cpuTime = false, blocks = false;
        List<int> threads = [1, 2];
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--filter":
                    filter = Next();
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--threads":
                    threads = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s =>
                        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int t) && t >= 1
                            ? t
                            : throw new ArgumentException($"--threads expects positive integers like 1,2, got '{s}'."))];
                    break;
                case "--out":
                    outFile = Next();
                    break;
                case "--cpu-time":
                    cpuTime = OperatingSystem.IsLinux();
                    break;
                case "--blocks":
                    blocks = true;
                    break;
                case "--no-machine":
                    machine = false;
                    break;
                case "-h" or "--help":
                    help = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        Quick = quick;
        return new BenchmarkOptions { Filter = filter, IsQuick = quick, Threads = threads, OutFile = outFile, MeasureMachine = machine, Help = help, CpuTime = cpuTime, Blocks = blocks };
    }

    public bool Matches(string name) => Filter is null || name.Contains(Filter, StringComparison.OrdinalIgnoreCase);
}
