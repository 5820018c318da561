using System.Globalization;
using System.Runtime.Intrinsics;
using CourseLib.Performance;

namespace CourseLib.Benchmarks;

/// <summary>
/// The hardware limits each kernel is read against: streaming bandwidth (STREAM-style triad over arrays far
/// larger than the caches) and the FMA peak (independent register-only FMA chains, nothing touches memory),
/// both measured by <see cref="MachineCeilings"/>.
/// </summary>
internal sealed record Machine(string Cpu, double TriadGBs1, double TriadGBsN, double PeakGflops1, double PeakGflopsN, int Threads, double? NominalGflops1)
{
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
        // The measurements live in the library (the performance lesson draws its roofline with the same code).
        double t1 = MachineCeilings.TriadGBs(1, repeats: reps, clock: singleThreadClock);
        double tn = threads > 1 ? MachineCeilings.TriadGBs(threads, repeats: reps) : t1;
        double p1 = MachineCeilings.FmaPeakGflops(1, repeats: reps, clock: singleThreadClock);
        double pn = threads > 1 ? MachineCeilings.FmaPeakGflops(threads, repeats: reps) : p1;
        // Per cycle: Zen 4 issues one 512-bit (as two 256-bit halves) or two 256-bit FMAs = 16 fused multiply-adds.
        double? nominal = mhz is double m && Vector512.IsHardwareAccelerated ? m * 1e-3 * 32 : null;
        return new Machine(cpu, t1, tn, p1, pn, threads, nominal);
    }

    public override string ToString()
    {
        var s = new System.Text.StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"CPU: {Cpu}, {Environment.ProcessorCount} logical cores, AVX-512: {Vector512.IsHardwareAccelerated}, .NET {Environment.Version}");
        // The second figure only when more threads than one were measured.
        string triadN = Threads > 1 ? string.Create(CultureInfo.InvariantCulture, $", {TriadGBsN:F1} GB/s on {Threads}") : "";
        string peakN = Threads > 1 ? string.Create(CultureInfo.InvariantCulture, $", {PeakGflopsN:F1} GFLOP/s on {Threads}") : "";
        s.AppendLine(CultureInfo.InvariantCulture, $"Streaming bandwidth (triad a = b + s·c, 3×64 MB): {TriadGBs1:F1} GB/s on 1 thread{triadN}");
        s.Append(CultureInfo.InvariantCulture, $"FMA peak (register-only, float32): {PeakGflops1:F1} GFLOP/s on 1 thread{peakN}");
        if (NominalGflops1 is double n)
        {
            // 32 FLOP/cycle/core (16 float FMAs); the clock /proc/cpuinfo reports is the base one, boost runs higher.
            s.Append(CultureInfo.InvariantCulture,
                $" (= 32 FLOP/cycle at {PeakGflops1 / 32:F2} GHz effective; theoretical at the reported {n / 32:F2} GHz clock: {n:F1} GFLOP/s per core)");
        }

        return s.ToString();
    }
}
