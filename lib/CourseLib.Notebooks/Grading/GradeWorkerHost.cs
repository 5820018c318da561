using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CourseLib.Notebooks.Grading;

/// <summary>
/// Starts grade workers without depending on how this assembly is hosted (the CLI, a test host, a notebook):
/// a five-line console program, compiled once with Roslyn into the temp folder, loads this assembly by path
/// and calls <see cref="GradeWorker.Run"/>. Its dependencies resolve from this assembly's folder (the rule
/// of Assembly.LoadFrom).
/// </summary>
internal static class GradeWorkerHost
{
    private const string HostSource = """
        public static class CourseLibGradeWorkerHost
        {
            public static int Main(string[] args)
            {
                var assembly = System.Reflection.Assembly.LoadFrom(args[0]);
                var run = assembly.GetType("CourseLib.Notebooks.Grading.GradeWorker", true)!.GetMethod("Run")!;
                return (int)run.Invoke(null, new object[] { args[1..] })!;
            }
        }
        """;

    private static readonly Lazy<string> s_hostPath = new(Build);

    /// <summary>A start description for a worker that grades the request in <paramref name="requestFile"/>.</summary>
    public static ProcessStartInfo StartInfo(string requestFile)
    {
        var psi = new ProcessStartInfo(DotnetPath())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(s_hostPath.Value);
        psi.ArgumentList.Add(typeof(GradeWorker).Assembly.Location);
        psi.ArgumentList.Add(requestFile);
        // Learner code never needs tiered-up speed; quick startup matters more for one-exercise workers.
        psi.Environment["DOTNET_TieredPGO"] = "0";
        return psi;
    }

    private static string Build()
    {
        string version = Environment.Version.ToString();
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(HostSource + version)))[..16].ToLowerInvariant();
        string dir = Path.Combine(Path.GetTempPath(), "courselib-grade-host", key);
        string dll = Path.Combine(dir, "CourseLibGradeWorkerHost.dll");
        if (File.Exists(dll))
        {
            return dll;
        }

        Directory.CreateDirectory(dir);
        string[] trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        string runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        var references = trusted.Where(p => p.StartsWith(runtimeDir, StringComparison.Ordinal)).Select(p => MetadataReference.CreateFromFile(p));
        CSharpCompilation compilation = CSharpCompilation.Create("CourseLibGradeWorkerHost",
            [CSharpSyntaxTree.ParseText(HostSource, new CSharpParseOptions(LanguageVersion.CSharp12))], references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        // Several graders (parallel tests) may build at once: write privately, then move into place.
        string tmp = Path.Combine(dir, $"{Guid.NewGuid():N}.tmp");
        using (FileStream fs = File.Create(tmp))
        {
            var result = compilation.Emit(fs);
            if (!result.Success)
            {
                throw new InvalidOperationException("Could not build the grade worker host: " + string.Join("; ", result.Diagnostics));
            }
        }

        string config = Path.Combine(dir, "CourseLibGradeWorkerHost.runtimeconfig.json");
        string frameworkVersion = Path.GetFileName(runtimeDir.TrimEnd(Path.DirectorySeparatorChar));
        File.WriteAllText(config + ".tmp" + Environment.ProcessId,
            "{\"runtimeOptions\":{\"tfm\":\"net" + Environment.Version.Major + "." + Environment.Version.Minor
            + "\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + frameworkVersion + "\"}}}");
        File.Move(config + ".tmp" + Environment.ProcessId, config, overwrite: true);
        try
        {
            File.Move(tmp, dll, overwrite: false);
        }
        catch (IOException) when (File.Exists(dll))
        {
            File.Delete(tmp);
        }

        return dll;
    }

    /// <summary>The dotnet muxer running this process (the SDK sets DOTNET_HOST_PATH for the processes it starts).</summary>
    private static string DotnetPath()
    {
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, exe);
        if (File.Exists(candidate))
        {
            return candidate;
        }

        string? process = Environment.ProcessPath;
        return process is not null && Path.GetFileName(process) == exe ? process : exe;
    }
}
