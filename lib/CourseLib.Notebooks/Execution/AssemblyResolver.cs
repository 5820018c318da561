using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace CourseLib.Notebooks.Execution;

/// <summary>
/// Loads what notebooks reference into the default AssemblyLoadContext, so there is one copy of every assembly
/// in the process. Roslyn's script loader would otherwise put each <c>#r</c>'d file in its own context, and a
/// formatter registered through a second copy of Microsoft.DotNet.Interactive.Formatting would be invisible to
/// the runner. Assemblies the runner itself ships (its trusted platform assemblies: CourseLib, TorchSharp,
/// Plotly.NET, the formatting library) are always taken from the runner, as the real kernel's own assemblies are.
/// Dependencies are found by simple name among NuGet runtime assets, then next to any <c>#r</c>'d file; native
/// libraries among the NuGet native assets.
/// </summary>
public sealed class AssemblyResolver
{
    private static readonly Lazy<AssemblyResolver> s_shared = new(() => new AssemblyResolver());

    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _assemblies = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _directories = [];
    private readonly List<string> _natives = [];
    private readonly HashSet<string> _trusted;
    private bool _nativesPreloaded;

    private AssemblyResolver()
    {
        string tpa = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
        _trusted = new HashSet<string>(
            tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileNameWithoutExtension).OfType<string>(),
            StringComparer.OrdinalIgnoreCase);
        AssemblyLoadContext.Default.Resolving += OnResolving;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += OnResolvingUnmanagedDll;
    }

    /// <summary>The process-wide resolver (assembly loading is process-wide).</summary>
    public static AssemblyResolver Shared => s_shared.Value;

    /// <summary>Loads a <c>#r</c>'d assembly (unless the host provides one of that name) and probes its folder for dependencies.</summary>
    public void AddReferencedFile(string path)
    {
        string full = Path.GetFullPath(path);
        lock (_lock)
        {
            string? dir = Path.GetDirectoryName(full);
            if (dir is not null && !_directories.Contains(dir, StringComparer.Ordinal))
            {
                _directories.Add(dir);
            }
        }

        LoadIntoDefault(full);
    }

    /// <summary>Makes restored NuGet assets loadable: managed ones by name, native ones on demand.</summary>
    public void AddPackages(RestoredPackages packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        lock (_lock)
        {
            foreach (string path in packages.RuntimeAssemblies)
            {
                _assemblies.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }

            foreach (string path in packages.NativeLibraries.Where(p => !_natives.Contains(p, StringComparer.Ordinal)))
            {
                _natives.Add(path);
                _nativesPreloaded = false;
            }
        }
    }

    private void LoadIntoDefault(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        if (_trusted.Contains(name) || AssemblyLoadContext.Default.Assemblies.Any(a => string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            return;
        }

        AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
    }

    private Assembly? OnResolving(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name is null)
        {
            return null;
        }

        string? path;
        lock (_lock)
        {
            if (!_assemblies.TryGetValue(name.Name, out path))
            {
                path = _directories.Select(d => Path.Combine(d, name.Name + ".dll")).FirstOrDefault(File.Exists);
            }
        }

        return path is null ? null : context.LoadFromAssemblyPath(path);
    }

    private IntPtr OnResolvingUnmanagedDll(Assembly requester, string name)
    {
        string[] natives;
        bool preload;
        lock (_lock)
        {
            natives = [.. _natives];
            preload = !_nativesPreloaded;
            _nativesPreloaded = true;
        }

        string? match = natives.FirstOrDefault(p => NativeNameMatches(Path.GetFileName(p), name));
        if (match is null)
        {
            return IntPtr.Zero;
        }

        // A library this process already has under the same file name (e.g. libtorch from the host's own bin, where
        // TorchSharp is shipped with the runner or the test host) must not be loaded a second time from the package
        // folder: two copies of libtorch_cpu.so register the same operators and abort the process. Hand back the
        // loaded one instead (dlopen by soname reuses it).
        HashSet<string> loaded = LoadedNativeFileNames();
        if (loaded.Contains(Path.GetFileName(match)))
        {
            return NativeLibrary.TryLoad(Path.GetFileName(match), out IntPtr existing) ? existing : IntPtr.Zero;
        }

        if (preload)
        {
            // A package's native libraries depend on each other by soname (libtorch.so needs libc10.so, which lives
            // in another package folder); the dynamic linker will not search those folders, but it reuses a library
            // already loaded under the same soname. So load them all, retrying until the dependency order works out.
            PreloadAll(natives);
        }

        return NativeLibrary.TryLoad(match, out IntPtr handle) ? handle : IntPtr.Zero;
    }

    private static void PreloadAll(string[] natives)
    {
        HashSet<string> loaded = LoadedNativeFileNames();
        var pending = natives.Where(p => p.EndsWith(".so", StringComparison.Ordinal) || p.Contains(".so.", StringComparison.Ordinal)
                                         || p.EndsWith(".dylib", StringComparison.Ordinal) || p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                             .Where(p => !loaded.Contains(Path.GetFileName(p)))
                             .ToList();
        bool progress = true;
        while (pending.Count > 0 && progress)
        {
            progress = false;
            foreach (string p in pending.ToList())
            {
                if (NativeLibrary.TryLoad(p, out _))
                {
                    pending.Remove(p);
                    progress = true;
                }
            }
        }
    }

    /// <summary>File names of the shared libraries mapped into this process (Linux; empty elsewhere).</summary>
    internal static HashSet<string> LoadedNativeFileNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!OperatingSystem.IsLinux())
        {
            return names;
        }

        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0)
                {
                    names.Add(Path.GetFileName(line[slash..].TrimEnd()));
                }
            }
        }
        catch (IOException)
        {
            // Without the map we cannot tell; loading proceeds as before.
        }

        return names;
    }

    private static bool NativeNameMatches(string file, string requested)
    {
        string req = Path.GetFileName(requested);
        if (file.Equals(req, StringComparison.Ordinal))
        {
            return true;
        }

        string stem = req.StartsWith("lib", StringComparison.Ordinal) ? req[3..] : req;
        foreach (string candidate in new[] { req, "lib" + stem, stem })
        {
            if (file.Equals(candidate + ".so", StringComparison.Ordinal) || file.Equals(candidate + ".dylib", StringComparison.Ordinal)
                || file.Equals(candidate + ".dll", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
