namespace CourseLib.Kernels;

/// <summary>
/// Argument validation shared by the kernels: every message names the argument, what was expected and what
/// came, so a learner sees "x has 12 elements but T·C = 4·4 = 16 were expected", not an IndexOutOfRange deep in a loop.
/// </summary>
internal static class Check
{
    /// <summary>Each dimension must be positive.</summary>
    public static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, got {value}.");
        }
    }

    /// <summary>An input must hold exactly <paramref name="expected"/> elements.</summary>
    public static void Length(int actual, long expected, string name, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements but {shape} = {expected} were expected.", name);
        }
    }

    /// <summary>An output must hold at least <paramref name="expected"/> elements.</summary>
    public static void Destination(int actual, long expected, string name, string shape)
    {
        if (actual < expected)
        {
            throw new ArgumentException($"Destination {name} is too short: {actual} elements, {shape} = {expected} needed.", name);
        }
    }

    /// <summary>An output may not share memory with an input the kernel still reads after writing the output.</summary>
    public static void NoOverlap<T>(ReadOnlySpan<T> input, string inputName, ReadOnlySpan<T> output, string outputName)
    {
        if (input.Overlaps(output))
        {
            throw new ArgumentException($"{outputName} overlaps {inputName}; this kernel needs them to be separate buffers.", outputName);
        }
    }
}
