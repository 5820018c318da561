using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CourseLib.Notebooks.Execution;

/// <summary>What a restore produced: assemblies to compile against, assemblies to load, native libraries.</summary>
/// <param name="CompileAssemblies">Reference assemblies for Roslyn (the packages' compile assets).</param>
/// <param name="RuntimeAssemblies">Implementation assemblies to load at run time.</param>
/// <param name="NativeLibraries">Native libraries for this machine's runtime identifier.</param>
public sealed record RestoredPackages(IReadOnlyList<string> CompileAssemblies, IReadOnlyList<string> RuntimeAssemblies, IReadOnlyList<string> NativeLibraries);

/// <summary>
/// Resolves <c>#r "nuget:"</c> requests for real, the way the kernel does (it also restores a generated project):
/// a throwaway net10.0 project per package set, <c>dotnet restore</c>, then the assets listed in
/// <c>obj/project.assets.json</c>. Projects live in a cache folder keyed by the package set, so a second run
/// with the same packages does not restore again.
/// </summary>
public sealed class NuGetRestorer
{
    private const string TargetFramework = "net10.0";

    /// <summary>Creates a restorer that keeps its projects under <paramref name="cacheDirectory"/>.</summary>
    public NuGetRestorer(string cacheDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        CacheDirectory = Path.GetFullPath(cacheDirectory);
    }

    /// <summary>The default cache: <c>$XDG_CACHE_HOME/courselib-notebooks/nuget</c> (else <c>~/.cache/...</c>).
    /// Outside the repository on purpose, so the repository's Directory.*.props do not apply to the projects.</summary>
    public static string DefaultCacheDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(root, "courselib-notebooks", "nuget");
        }
    }

    /// <summary>The folder holding one project per package set.</summary>
    public string CacheDirectory { get; }

    /// <summary>Restores the packages (name → version, null for latest) and returns their assets for this machine.</summary>
    /// <exception cref="InvalidOperationException">The restore failed; the message carries NuGet's errors.</exception>
    public RestoredPackages Restore(IReadOnlyDictionary<string, string?> packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        var sorted = packages.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).ToList();
        string key = string.Join(";", sorted.Select(p => $"{p.Key.ToLowerInvariant()}/{p.Value ?? "*"}"));
        string dir = Path.Combine(CacheDirectory, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant());
        string assets = Path.Combine(dir, "obj", "project.assets.json");
        string stamp = Path.Combine(dir, "restored.txt");
        // A floating version ("latest") is restored every run, as the kernel would see a newer package.
        bool floating = sorted.Any(p => p.Value is null);

        Directory.CreateDirectory(dir);
        // Two runs (say CI's course run and a test run) may restore the same set at once: one at a time per set.
        using (FileStream gate = AcquireLock(Path.Combine(dir, ".lock")))
        {
            if (floating || !File.Exists(stamp) || !File.Exists(assets))
            {
                File.Delete(stamp);
                WriteProject(dir, sorted);
                RunRestore(dir, key);
                File.WriteAllText(stamp, key + "\n");
            }
        }

        return ReadAssets(assets);
    }

    private static FileStream AcquireLock(string path)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromMinutes(10))
            {
                Thread.Sleep(200);
            }
        }
    }

    private static void WriteProject(string dir, List<KeyValuePair<string, string?>> packages)
    {
        var xml = new StringBuilder();
        xml.AppendLine("<Project Sdk=\"Microsoft.NET.Sdk\">");
        xml.AppendLine($"  <PropertyGroup><TargetFramework>{TargetFramework}</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally><NoWarn>$(NoWarn);NU1603;NU1701</NoWarn></PropertyGroup>");
        xml.AppendLine("  <ItemGroup>");
        foreach ((string name, string? version) in packages)
        {
            xml.AppendLine($"    <PackageReference Include=\"{System.Security.SecurityElement.Escape(name)}\" Version=\"{System.Security.SecurityElement.Escape(version ?? "*")}\" />");
        }

        xml.AppendLine("  </ItemGroup>");
        xml.AppendLine("</Project>");
        File.WriteAllText(Path.Combine(dir, "packages.csproj"), xml.ToString());
    }

    private static void RunRestore(string dir, string key)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No lingering build servers: they would inherit our output pipes and keep them open after the restore.
        foreach (string a in new[] { "restore", "packages.csproj", "-nologo", "--disable-build-servers", "-p:ImportDirectoryBuildProps=false", "-p:ImportDirectoryBuildTargets=false", "-p:ImportDirectoryPackagesProps=false" })
        {
            psi.ArgumentList.Add(a);
        }

        // The worker's own `dotnet` environment (e.g. MSBuild variables from a parent build) must not leak into the restore.
        psi.Environment.Remove("MSBuildExtensionsPath");
        psi.Environment.Remove("MSBuildSDKsPath");
        psi.Environment.Remove("MSBUILD_EXE_PATH");
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start `dotnet restore`.");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            string errors = string.Join("\n", (stdout.Result + "\n" + stderr.Result).Split('\n')
                .Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Select(l => l.Trim()).Distinct().Take(10));
            throw new InvalidOperationException($"NuGet restore of {key.Replace(";", ", ", StringComparison.Ordinal)} failed:\n{errors}");
        }
    }

    private static RestoredPackages ReadAssets(string assetsPath)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(assetsPath));
        JsonElement root = doc.RootElement;
        string packageFolder = root.GetProperty("packageFolders").EnumerateObject().First().Name;
        JsonElement libraries = root.GetProperty("libraries");
        JsonElement target = root.GetProperty("targets").EnumerateObject().First(t => !t.Name.Contains('/', StringComparison.Ordinal)).Value;
        HashSet<string> rids = CompatibleRuntimeIdentifiers();

        var compile = new List<string>();
        var runtime = new List<string>();
        var native = new List<string>();
        foreach (JsonProperty package in target.EnumerateObject())
        {
            if (package.Value.GetProperty("type").GetString() != "package")
            {
                continue;
            }

            string folder = Path.Combine(packageFolder, libraries.GetProperty(package.Name).GetProperty("path").GetString()!);
            compile.AddRange(Files(package.Value, "compile", folder));
            runtime.AddRange(Files(package.Value, "runtime", folder));
            if (package.Value.TryGetProperty("runtimeTargets", out JsonElement targets))
            {
                foreach (JsonProperty asset in targets.EnumerateObject())
                {
                    string rid = asset.Value.TryGetProperty("rid", out JsonElement r) ? r.GetString() ?? "" : "";
                    string type = asset.Value.TryGetProperty("assetType", out JsonElement t) ? t.GetString() ?? "" : "";
                    if (rids.Contains(rid) && !IsPlaceholder(asset.Name))
                    {
                        (type == "native" ? native : runtime).Add(Path.Combine(folder, asset.Name));
                    }
                }
            }

            native.AddRange(Files(package.Value, "native", folder));
        }

        return new RestoredPackages(compile, runtime, native);
    }

    private static List<string> Files(JsonElement package, string kind, string folder) =>
        package.TryGetProperty(kind, out JsonElement files)
            ? files.EnumerateObject()
                .Where(f => !IsPlaceholder(f.Name) && (kind == "native" || f.Name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)))
                .Select(f => Path.Combine(folder, f.Name)).ToList()
            : [];

    // NuGet writes "_._" for "this framework needs nothing from this package".
    private static bool IsPlaceholder(string path) => path.EndsWith("_._", StringComparison.Ordinal);

    /// <summary>This machine's runtime identifier and the portable ones it falls back to (a flat slice of the RID graph).</summary>
    private static HashSet<string> CompatibleRuntimeIdentifiers()
    {
        string arch = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var rids = new HashSet<string>(StringComparer.Ordinal) { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}", os, "any" };
        if (!OperatingSystem.IsWindows())
        {
            rids.Add("unix");
            rids.Add($"unix-{arch}");
        }

        return rids;
    }
}
