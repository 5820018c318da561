namespace CourseLib.Kernels.LowPrecision;

/// <summary>Argument validation shared by the low-precision Linear layers.</summary>
internal static class LowPrecisionChecks
{
    public static void Linear(ReadOnlySpan<float> x, int wLength, string wName, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
        Length(x.Length, (long)n * inDim, nameof(x), "N·I", n, inDim);
        Length(wLength, (long)outDim * inDim, wName, "O·I", outDim, inDim);
        if (!b.IsEmpty)
        {
            Length(b.Length, outDim, nameof(b), "O (or empty for no bias)", outDim);
        }

        Destination(y.Length, (long)n * outDim, nameof(y), "N·O", n, outDim);
        Check.NoOverlap(x, nameof(x), y, nameof(y));
        Check.NoOverlap(b, nameof(b), y, nameof(y));
    }

    // The shape text is formatted only on failure, so validation allocates nothing on the hot path.
    public static void Length(int actual, long expected, string name, string dims, params ReadOnlySpan<int> values)
    {
        if (actual != expected)
        {
            Check.Length(actual, expected, name, $"{dims} = {string.Join("·", values.ToArray())}");
        }
    }

    public static void Destination(int actual, long expected, string name, string dims, params ReadOnlySpan<int> values)
    {
        if (actual < expected)
        {
            Check.Destination(actual, expected, name, $"{dims} = {string.Join("·", values.ToArray())}");
        }
    }
}
