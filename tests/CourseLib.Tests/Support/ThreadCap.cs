using CourseLib.Kernels;

namespace CourseLib.Tests.Support;

/// <summary>
/// Sets <see cref="KernelThreads.Max"/> for a <c>using</c> block and restores it after. The cap is process-wide, so only
/// tests in the <see cref="Kernels.KernelThreadsSerial"/> collection (run alone, after the parallel tests) may use it:
/// a test elsewhere would change the thread count under every test running beside it, and two of them could restore
/// each other's value and leave the wrong one for the rest of the run.
/// </summary>
internal readonly struct ThreadCap : IDisposable
{
    private readonly int _saved;

    private ThreadCap(int max)
    {
        _saved = KernelThreads.Max;
        KernelThreads.Max = max;
    }

    /// <summary>Caps the kernels at <paramref name="max"/> threads until the returned value is disposed.</summary>
    public static ThreadCap Set(int max) => new(max);

    /// <summary>Puts the previous cap back.</summary>
    public void Dispose() => KernelThreads.Max = _saved;
}
