using System.Diagnostics;
using CourseLib.Notebooks.Tests.Support;

namespace CourseLib.Notebooks.Tests.Cli;

/// <summary>Runs the real CLI (<c>dotnet CourseLib.Notebooks.dll run ...</c>) as a separate process.</summary>
internal static class RunnerProcess
{
    public static (int ExitCode, string Output, TimeSpan Elapsed) Run(TimeSpan limit, params string[] args)
    {
        Assert.True(File.Exists(Course.RunnerDll), $"The runner is not built at {Course.RunnerDll}; build tests/CourseLib.Notebooks.Tests first.");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Course.RunnerDll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"The runner did not finish within {limit.TotalSeconds} s: {string.Join(' ', args)}");
        }

        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    /// <summary>
    /// Builds, in Release, the library projects notebooks reference by artifacts path
    /// (<c>#r ".../artifacts/bin/&lt;Project&gt;/release/&lt;Project&gt;.dll"</c>), as the course's run command does.
    /// </summary>
    public static void BuildReleaseLibrariesReferencedBy(IEnumerable<string> notebooks)
    {
        var projects = notebooks.SelectMany(File.ReadLines)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"artifacts/bin/(?<p>[A-Za-z0-9.]+)/release/"))
            .Where(m => m.Success).Select(m => m.Groups["p"].Value).Distinct().ToList();
        foreach (string project in projects)
        {
            string csproj = Path.Combine(Course.Root, "lib", project, project + ".csproj");
            Assert.True(File.Exists(csproj), $"A notebook references artifacts/bin/{project}/release/ but {csproj} does not exist.");
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { "build", csproj, "-c", "Release", "-nologo", "-v", "q" })
            {
                psi.ArgumentList.Add(a);
            }

            using Process p = Process.Start(psi)!;
            Task<string> output = p.StandardOutput.ReadToEndAsync();
            Task<string> errors = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"dotnet build {project} -c Release failed:\n{output.Result}\n{errors.Result}");
        }
    }
}
