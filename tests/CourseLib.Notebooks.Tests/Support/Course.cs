using System.Reflection;

namespace CourseLib.Notebooks.Tests.Support;

/// <summary>Where the repository and the runner's build output are.</summary>
internal static class Course
{
    public static string Root { get; } =
        typeof(Course).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "CourseLib.Root").Value!.TrimEnd('/', '\\');

    /// <summary>"debug" or "release": the configuration these tests were built with (artifacts paths are lower-case).</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/', '\\')).Name;

    /// <summary>The runner as built by its own project (with its own deps.json and runtimeconfig).</summary>
    public static string RunnerDll => Path.Combine(Root, "artifacts", "bin", "CourseLib.Notebooks", Configuration, "CourseLib.Notebooks.dll");

    /// <summary>The sample notebooks shipped with these tests.</summary>
    public static string TestNotebooks => Path.Combine(Root, "tests", "CourseLib.Notebooks.Tests", "Notebooks");
}
