// The benchmark command (see the README):
//   dotnet run -c Release --project lib/CourseLib.Benchmarks -- [--filter <op>] [--quick] [--threads 1,2] [--out <file.md>]
// Measures the machine (streaming bandwidth, FMA peak), then every IBenchmarkSuite case against libtorch,
// interleaved in this process, and prints the table (also written as Markdown, default artifacts/benchmarks/results.md).
using CourseLib.Benchmarks;

if (CourseLib.Torch.NativeShim.RestartIfNeeded(args) is int exitCode)
{
    return exitCode;
}

BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchmarkOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchmarkOptions.Usage);
    return 0;
}

return Harness.Run(options);
