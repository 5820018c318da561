namespace CourseLib.Notebooks.Cli;

/// <summary>Finds the course repository: the nearest folder above a start point holding CourseLib.sln.</summary>
public static class RepositoryRoot
{
    /// <summary>The root above the current directory, else above this program's folder, else null.</summary>
    public static string? Find() =>
        FindFrom(Directory.GetCurrentDirectory()) ?? FindFrom(AppContext.BaseDirectory);

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds CourseLib.sln, or null.</summary>
    public static string? FindFrom(string start)
    {
        for (DirectoryInfo? dir = new(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CourseLib.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
