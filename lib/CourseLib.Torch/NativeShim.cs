using System.Diagnostics;
using System.Reflection;

namespace CourseLib.Torch;

/// <summary>
/// Makes TorchSharp loadable on systems whose libstdc++ is older than the one libtorch was built against
/// (Debian 12). The build writes a wrapper <c>libstdc++.so.6</c> only where it is needed
/// (build/glibcxx-shim/build.sh); a process must have it first on <c>LD_LIBRARY_PATH</c> when it starts,
/// because the dynamic linker reads that variable once. Processes this project starts (the notebook
/// runner's workers, the benchmarks) go through <see cref="ApplyTo"/> or <see cref="RestartIfNeeded"/>;
/// the test host gets it from the generated .runsettings.
/// </summary>
public static class NativeShim
{
    private const string ShimFile = "libstdc++.so.6";

    /// <summary>
    /// The folder holding the wrapper library if this system needs it, otherwise <c>null</c>.
    /// The environment variable <c>COURSELIB_GLIBCXX_SHIM_DIR</c> overrides the location recorded at build time.
    /// </summary>
    public static string? Directory
    {
        get
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            string? dir = Environment.GetEnvironmentVariable("COURSELIB_GLIBCXX_SHIM_DIR");
            if (string.IsNullOrEmpty(dir))
            {
                dir = typeof(NativeShim).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                    .FirstOrDefault(a => a.Key == "CourseLib.GlibcxxShimDir")?.Value;
            }

            return dir is not null && File.Exists(Path.Combine(dir, ShimFile)) ? Path.GetFullPath(dir) : null;
        }
    }

    /// <summary>True when this process needs no wrapper, or already runs with it loaded.</summary>
    public static bool IsSatisfied
    {
        get
        {
            string? dir = Directory;
            if (dir is null)
            {
                return true;
            }

            // /proc/self/maps lists every mapped file: the wrapper is there iff the linker picked it.
            try
            {
                string wrapper = Path.Combine(dir, ShimFile);
                return File.ReadLines("/proc/self/maps").Any(l => l.EndsWith(wrapper, StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <summary>Puts the wrapper first on <c>LD_LIBRARY_PATH</c> of a process about to be started (no-op where not needed).</summary>
    public static void ApplyTo(ProcessStartInfo startInfo)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        string? dir = Directory;
        if (dir is null)
        {
            return;
        }

        string? current = startInfo.Environment.TryGetValue("LD_LIBRARY_PATH", out string? v) ? v : null;
        startInfo.Environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(current) ? dir : dir + ":" + current;
    }

    /// <summary>
    /// For command-line programs: if this process needs the wrapper and does not have it, starts the same
    /// program again with it, waits, and returns its exit code; otherwise returns <c>null</c> and the caller
    /// goes on. Standard input, output and error are inherited.
    /// </summary>
    public static int? RestartIfNeeded(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (IsSatisfied || Environment.GetEnvironmentVariable("COURSELIB_GLIBCXX_SHIM_RESTARTED") == "1")
        {
            return null;
        }

        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this process's executable to restart it.");
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        // Under `dotnet app.dll` the process is dotnet itself: pass the entry assembly on again.
        string? entry = Assembly.GetEntryAssembly()?.Location;
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(entry))
        {
            psi.ArgumentList.Add(entry);
        }

        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        ApplyTo(psi);
        psi.Environment["COURSELIB_GLIBCXX_SHIM_RESTARTED"] = "1";
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not restart {exe}.");
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>Throws a message that says what to do when TorchSharp cannot load in this process.</summary>
    public static void EnsureSatisfied()
    {
        if (!IsSatisfied)
        {
            throw new InvalidOperationException(
                $"TorchSharp needs GLIBCXX_3.4.32, which this system's libstdc++ lacks. Start this process with " +
                $"LD_LIBRARY_PATH={Directory} (the wrapper the build made), or through the course runner, which does it for you.");
        }
    }
}
