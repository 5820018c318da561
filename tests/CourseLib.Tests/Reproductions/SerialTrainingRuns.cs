namespace CourseLib.Tests.Reproductions;

/// <summary>
/// Training runs that are timed against a budget (~15 s each on 2 cores) run alone, after the parallel tests,
/// so they do not compete with each other for the cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTrainingRuns
{
    public const string Name = "Serial training runs";
}
