using System.Globalization;

namespace CourseLib.Notebooks.Cli;

/// <summary>The arguments of the <c>run</c> verb.</summary>
/// <param name="Paths">Notebook files or folders (searched recursively for *.dib), as given.</param>
/// <param name="CellTimeout">How long one cell may run before it is stopped and fails.</param>
/// <param name="OutputDirectory">Where result JSON goes; null for artifacts/run under the repository root.</param>
/// <param name="NuGetCache">Folder for the generated restore projects; null for the default.</param>
public sealed record RunOptions(IReadOnlyList<string> Paths, TimeSpan CellTimeout, string? OutputDirectory, string? NuGetCache)
{
    /// <summary>Default per-cell timeout: generous for a training-loop cell on 2 cores, short enough to catch a hang.</summary>
    public static readonly TimeSpan DefaultCellTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Parses the arguments after <c>run</c>.</summary>
    /// <exception cref="ArgumentException">An unknown option or a missing or bad value; the message says which.</exception>
    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var paths = new List<string>();
        TimeSpan timeout = DefaultCellTimeout;
        string? output = null;
        string? cache = null;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--cell-timeout":
                    string value = Value(args, ref i, a);
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || !(seconds > 0))
                    {
                        throw new ArgumentException($"--cell-timeout needs a positive number of seconds, got '{value}'.", nameof(args));
                    }

                    timeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--out":
                    output = Value(args, ref i, a);
                    break;
                case "--nuget-cache":
                    cache = Value(args, ref i, a);
                    break;
                default:
                    if (a.StartsWith('-'))
                    {
                        throw new ArgumentException($"unknown option '{a}' (see --help).", nameof(args));
                    }

                    paths.Add(a);
                    break;
            }
        }

        return new RunOptions(paths, timeout, output, cache);
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count)
        {
            throw new ArgumentException($"{option} needs a value.", nameof(args));
        }

        return args[++i];
    }
}
