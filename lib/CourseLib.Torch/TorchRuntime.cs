using TorchSharp;

namespace CourseLib.Torch;

/// <summary>Entry point for anything that uses libtorch: checks the native prerequisites once, with a clear message.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<string> s_version = new(() =>
    {
        NativeShim.EnsureSatisfied();
        // The first call into torch loads libtorch; later calls are free.
        using var probe = torch.zeros(1);
        return torch.__version__;
    });

    /// <summary>Loads libtorch (once) and returns its version, e.g. "2.10.0".</summary>
    public static string Initialize() => s_version.Value;
}
