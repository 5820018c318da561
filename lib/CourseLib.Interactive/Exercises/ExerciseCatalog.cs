namespace CourseLib.Interactive.Exercises;

/// <summary>Every graded exercise of the course, by id.</summary>
public static class ExerciseCatalog
{
    /// <summary>The exercises in course order.</summary>
    public static IReadOnlyList<ExerciseSpec> All { get; } =
    [
        Lesson1Exercises.Ffn,
        Lesson1Exercises.FfnBackward,
        Lesson2Exercises.GeluForward,
        Lesson2Exercises.GeluDerivative,
        Lesson3Exercises.Forward,
        Lesson3Exercises.Backward,
        Lesson4Exercises.Residual,
        Lesson4Exercises.Backward,
        Lesson5Exercises.Schedule,
        Lesson5Exercises.PreLn,
        Lesson6Exercises.PostLnBlock,
        Lesson6Exercises.Sample,
        Lesson7Exercises.BiasGelu,
        Lesson7Exercises.QuantizeInt8,
        Lesson8Exercises.TopK,
        Lesson8Exercises.LoadBalancing,
    ];

    // After All: static fields initialise in textual order.
    private static readonly Lazy<IReadOnlyDictionary<string, ExerciseSpec>> s_byId = new(() =>
        All.ToDictionary(e => e.Id, StringComparer.Ordinal));

    /// <summary>The exercise with this id, or null.</summary>
    public static ExerciseSpec? Find(string id) => s_byId.Value.GetValueOrDefault(id);

    /// <summary>The exercise with this id.</summary>
    /// <exception cref="ArgumentException">No exercise has this id (the message lists the ids that exist).</exception>
    public static ExerciseSpec Get(string id) =>
        Find(id) ?? throw new ArgumentException($"There is no exercise \"{id}\"; the course has {string.Join(", ", All.Select(e => e.Id))}.", nameof(id));
}
