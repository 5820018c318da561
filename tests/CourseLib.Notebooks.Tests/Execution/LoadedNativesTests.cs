using CourseLib.Notebooks.Execution;

namespace CourseLib.Notebooks.Tests.Execution;

public class LoadedNativesTests
{
    [Fact]
    public void LoadedNativeFileNames_InThisProcess_ContainsTheRuntime()
    {
        // The guard against loading a second copy of a native library (two libtorch_cpu.so abort the process)
        // depends on seeing what is mapped; the runtime's own libcoreclr.so always is.
        Assert.True(OperatingSystem.IsLinux(), "the course runs its tests on Linux");
        Assert.Contains("libcoreclr.so", AssemblyResolver.LoadedNativeFileNames());
    }
}
