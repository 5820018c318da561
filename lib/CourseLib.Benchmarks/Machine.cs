using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Benchmarks;

/// <summary>
/// The hardware limits each kernel is read against: streaming bandwidth (STREAM-style triad over arrays far
/// larger than the caches) and the FMA peak (independent register-only FMA chains, nothing touches memory).
/// </summary>
internal sealed record Machine(string Cpu, double TriadGBs1, double TriadGBsN, double PeakGflops1, double PeakGflopsN, int Threads, double? NominalGflops1)
{
    private const int Chains = 12;

    public static Machine Measure(int threads, bool quick, Func<double> singleThreadClock)
    {
        string cpu = "unknown CPU";
        double? mhz = null;
        if (File.Exists("/proc/cpuinfo"))
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && cpu == "unknown CPU")
                {
                    cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
                else if (line.StartsWith("cpu MHz", StringComparison.Ordinal) && mhz is null &&
                         double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    mhz = v;
                }
            }
        }

        int reps = quick ? 2 : 5;
        double t1 = Triad(1, reps, singleThreadClock), tn = threads > 1 ? Triad(threads, reps, WallClock) : t1;
        double p1 = FmaPeak(1, reps, singleThreadClock), pn = threads > 1 ? FmaPeak(threads, reps, WallClock) : p1;
        // Per cycle: Zen 4 issues one 512-bit (as two 256-bit halves) or two 256-bit FMAs = 16 fused multiply-adds.
        double? nominal = mhz is double m && Vector512.IsHardwareAccelerated ? m * 1e-3 * 32 : null;
        return new Machine(cpu, t1, tn, p1, pn, threads, nominal);
    }

    public override string ToString()
    {
        var s = new System.Text.StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"CPU: {Cpu}, {Environment.ProcessorCount} logical cores, AVX-512: {Vector512.IsHardwareAccelerated}, .NET {Environment.Version}");
        s.AppendLine(CultureInfo.InvariantCulture, $"Streaming bandwidth (triad a = b + s·c, 3×64 MB): {TriadGBs1:F1} GB/s on 1 thread, {TriadGBsN:F1} GB/s on {Threads}");
        s.Append(CultureInfo.InvariantCulture, $"FMA peak (register-only, float32): {PeakGflops1:F1} GFLOP/s on 1 thread, {PeakGflopsN:F1} GFLOP/s on {Threads}");
        if (NominalGflops1 is double n)
        {
            // 32 FLOP/cycle/core (16 float FMAs); the clock /proc/cpuinfo reports is the base one, boost runs higher.
            s.Append(CultureInfo.InvariantCulture,
                $" (= 32 FLOP/cycle at {PeakGflops1 / 32:F2} GHz effective; theoretical at the reported {n / 32:F2} GHz clock: {n:F1} GFLOP/s per core)");
        }

        return s.ToString();
    }

    private static double WallClock() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>Runs body(t) for t in [0, threads): inline for one thread (so a thread-CPU clock sees it), else in parallel.</summary>
    private static void Spread(int threads, Action<int> body)
    {
        if (threads == 1)
        {
            body(0);
            return;
        }

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    private static double Triad(int threads, int reps, Func<double> clock)
    {
        const int Count = 16 << 20;
        float[] a = new float[Count], b = new float[Count], c = new float[Count];
        b.AsSpan().Fill(1f);
        c.AsSpan().Fill(2f);
        int chunk = (Count + threads - 1) / threads;
        double best = double.MaxValue;
        for (int r = 0; r <= reps; r++)
        {
            double start = clock();
            Spread(threads, t =>
            {
                int from = t * chunk, len = Math.Min(Count, from + chunk) - from;
                TensorPrimitives.MultiplyAdd(c.AsSpan(from, len), 3f, b.AsSpan(from, len), a.AsSpan(from, len));
            });
            double s = clock() - start;
            if (r > 0)
            {
                best = Math.Min(best, s);
            }
        }

        return 3.0 * sizeof(float) * Count / best / 1e9;
    }

    private static double FmaPeak(int threads, int reps, Func<double> clock)
    {
        const long Iterations = 20_000_000;
        double best = double.MaxValue;
        for (int r = 0; r <= reps; r++)
        {
            double start = clock();
            Spread(threads, _ => FmaChains(Iterations));
            double s = clock() - start;
            if (r > 0)
            {
                best = Math.Min(best, s);
            }
        }

        return 2.0 * Chains * Vector512<float>.Count * Iterations * threads / best / 1e9;
    }

    /// <summary>Twelve independent chains: more than latency × throughput (4 × 1 on Zen 4), so the FMA pipe never waits.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChains(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999999f), k = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, k);
            c1 = Vector512.FusedMultiplyAdd(c1, m, k);
            c2 = Vector512.FusedMultiplyAdd(c2, m, k);
            c3 = Vector512.FusedMultiplyAdd(c3, m, k);
            c4 = Vector512.FusedMultiplyAdd(c4, m, k);
            c5 = Vector512.FusedMultiplyAdd(c5, m, k);
            c6 = Vector512.FusedMultiplyAdd(c6, m, k);
            c7 = Vector512.FusedMultiplyAdd(c7, m, k);
            c8 = Vector512.FusedMultiplyAdd(c8, m, k);
            c9 = Vector512.FusedMultiplyAdd(c9, m, k);
            c10 = Vector512.FusedMultiplyAdd(c10, m, k);
            c11 = Vector512.FusedMultiplyAdd(c11, m, k);
        }

        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
