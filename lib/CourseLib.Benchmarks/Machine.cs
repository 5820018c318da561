using System.Globalization;
using System.Runtime.Intrinsics;
using CourseLib.Performance;

namespace CourseLib.Benchmarks;

/// <summary>
/// The hardware limits each kernel is read against: streaming bandwidth (STREAM-style triad over arrays far
/// larger than the caches) and the FMA peak (independent register-only FMA chains, nothing touches memory),
/// both measured by <see cref="MachineCeilings"/>.
/// </summary>
internal sealed record Machine(string Cpu, double TriadGBs1, double TriadGBsN, double PeakGflops1, double PeakGflopsN, int Threads, double? NominalGflops1, int? FlopsPerCycle)
{
    public static Machine Measure(int threads, bool quick, Func<double> singleThreadClock)
    {
        string cpu = "unknown CPU";
        string? vendor = null;
        int? family = null;
        double? mhz = null;
        if (File.Exists("/proc/cpuinfo"))
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && cpu == "unknown CPU")
                {
                    cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
                else if (line.StartsWith("vendor_id", StringComparison.Ordinal) && vendor is null)
                {
                    vendor = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
                else if (line.StartsWith("cpu family", StringComparison.Ordinal) && family is null &&
                         int.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int f))
                {
                    family = f;
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
        int? perCycle = Vector512.IsHardwareAccelerated ? FloatFlopsPerCycle(vendor, family) : null;
        double? nominal = mhz is double m && perCycle is int fpc ? m * 1e-3 * fpc : null;
        return new Machine(cpu, t1, tn, p1, pn, threads, nominal, perCycle);
    }

    /// <summary>
    /// Float FLOP per cycle per core where the core is known: Zen 4 (AMD family 25) issues one 512-bit FMA per cycle as
    /// two 256-bit halves, 16 fused multiply-adds = 32 FLOP; Zen 5 (family 26) has two full 512-bit FMA pipes, 64 FLOP.
    /// Unknown cores get no figure rather than a guess.
    /// </summary>
    private static int? FloatFlopsPerCycle(string? vendor, int? family) => (vendor, family) switch
    {
        ("AuthenticAMD", 25) => 32,
        ("AuthenticAMD", 26) => 64,
        _ => null,
    };

    public override string ToString()
    {
        var s = new System.Text.StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"CPU: {Cpu}, {Environment.ProcessorCount} logical cores, AVX-512: {Vector512.IsHardwareAccelerated}, .NET {Environment.Version}");
        // The second figure only when more threads than one were measured.
        string triadN = Threads > 1 ? string.Create(CultureInfo.InvariantCulture, $", {TriadGBsN:F1} GB/s on {Threads}") : "";
        string peakN = Threads > 1 ? string.Create(CultureInfo.InvariantCulture, $", {PeakGflopsN:F1} GFLOP/s on {Threads}") : "";
        s.AppendLine(CultureInfo.InvariantCulture, $"Streaming bandwidth (triad a = b + s·c, 3×64 MB): {TriadGBs1:F1} GB/s on 1 thread{triadN}");
        s.Append(CultureInfo.InvariantCulture, $"FMA peak (register-only, float32): {PeakGflops1:F1} GFLOP/s on 1 thread{peakN}");
        if (FlopsPerCycle is int fpc && NominalGflops1 is double n)
        {
            // The clock /proc/cpuinfo reports is the base one; boost runs higher, hence the effective clock.
            s.Append(CultureInfo.InvariantCulture,
                $" (= {fpc} FLOP/cycle at {PeakGflops1 / fpc:F2} GHz effective; theoretical at the reported {n / fpc:F2} GHz clock: {n:F1} GFLOP/s per core)");
        }

        return s.ToString();
    }
}
