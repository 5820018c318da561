namespace CourseLib.Kernels;

/// <summary>
/// <see cref="Check"/> for shapes given as a product of dimensions, formatting the message only when the check fails:
/// an interpolated shape string built on every call would allocate on every call of the kernel.
/// </summary>
internal static class Shape
{
    /// <summary>An input must hold exactly <paramref name="expected"/> elements; <paramref name="format"/> names the product.</summary>
    public static void Length(int actual, long expected, string name, string format, int a, int b)
    {
        if (actual != expected)
        {
            Check.Length(actual, expected, name, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, a, b));
        }
    }

    /// <summary>An output must hold at least <paramref name="expected"/> elements.</summary>
    public static void Destination(int actual, long expected, string name, string format, int a, int b)
    {
        if (actual < expected)
        {
            Check.Destination(actual, expected, name, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, a, b));
        }
    }
}
