using CourseLib.Performance;

namespace CourseLib.Tests.Performance;

// Speed is never asserted (these machines are noisy): only that the measurements are measurements.
public sealed class MachineCeilingsTests
{
    [Fact]
    public void TriadGBs_SmallArraysOneThread_PositiveAndFinite()
    {
        double gbs = MachineCeilings.TriadGBs(threads: 1, megabytesPerArray: 1, repeats: 2);
        Assert.True(double.IsFinite(gbs) && gbs > 0, $"bandwidth {gbs}");
    }

    [Fact]
    public void TriadGBs_TwoThreads_PositiveAndFinite()
    {
        double gbs = MachineCeilings.TriadGBs(threads: 2, megabytesPerArray: 1, repeats: 2);
        Assert.True(double.IsFinite(gbs) && gbs > 0, $"bandwidth {gbs}");
    }

    [Fact]
    public void TriadGBs_ClockGiven_TimesWithIt()
    {
        // A clock that advances 1 s per reading: every run takes exactly 1 s, so the result is bytes / 1e9.
        double now = 0;
        double gbs = MachineCeilings.TriadGBs(threads: 1, megabytesPerArray: 1, repeats: 1, clock: () => now++);
        Assert.Equal(3.0 * (1 << 20) / 1e9, gbs, 12);
    }

    [Fact]
    public void FmaPeakGflops_ShortRun_CountsTwoFlopPerLanePerFma()
    {
        double now = 0;
        double gflops = MachineCeilings.FmaPeakGflops(threads: 1, iterations: 1000, repeats: 1, clock: () => now++);
        Assert.Equal(2.0 * MachineCeilings.Chains * MachineCeilings.VectorLanes * 1000 / 1e9, gflops, 15);
    }

    [Fact]
    public void FmaPeakGflops_TwoThreads_PositiveAndFinite()
    {
        double gflops = MachineCeilings.FmaPeakGflops(threads: 2, iterations: 100_000, repeats: 2);
        Assert.True(double.IsFinite(gflops) && gflops > 0, $"peak {gflops}");
    }

    [Fact]
    public void VectorLanes_PowerOfTwoUpTo16()
    {
        Assert.Contains(MachineCeilings.VectorLanes, new[] { 1, 4, 8, 16 });
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 0, 1)]
    [InlineData(1, 1, 0)]
    public void TriadGBs_NonPositiveArgument_Throws(int threads, int megabytes, int repeats)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineCeilings.TriadGBs(threads, megabytes, repeats));
    }

    [Fact]
    public void FmaPeakGflops_ZeroIterations_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MachineCeilings.FmaPeakGflops(iterations: 0));
        Assert.Equal("iterations", e.ParamName);
    }
}
