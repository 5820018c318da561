namespace CourseLib.Benchmarks;

/// <summary>
/// One op's benchmark cases. The harness finds every implementation by reflection, runs each case's two
/// actions interleaved in the same process (ours, libtorch, ours, …) and prints time, throughput and the
/// ratio time(ours)/time(libtorch). Suites live one per op in Suites/.
/// </summary>
internal interface IBenchmarkSuite
{
    /// <summary>Op name as printed, e.g. "LayerNorm fwd".</summary>
    string Name { get; }

    /// <summary>The cases for this run (shapes T ∈ {64, 512, 4096}, C ∈ {256, 768} unless the op needs others).</summary>
    IEnumerable<BenchmarkCase> Cases();
}

/// <summary>
/// One measured pair. <paramref name="Bytes"/> is the minimum memory traffic of one call (for GB/s),
/// <paramref name="Flops"/> its floating-point operations (for GFLOP/s); either may be 0 when not meaningful.
/// Both actions must compute the same thing on inputs prepared outside them (no allocation inside ours).
/// </summary>
internal sealed record BenchmarkCase(string Op, string Shape, Action Ours, Action Torch, double Bytes, double Flops) : IDisposable
{
    /// <summary>Releases what the case holds (TorchSharp tensors), if anything.</summary>
    public IDisposable? Resources { get; init; }

    /// <inheritdoc />
    public void Dispose() => Resources?.Dispose();
}
