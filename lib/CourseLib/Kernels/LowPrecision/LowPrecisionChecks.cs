namespace CourseLib.Kernels.LowPrecision;

/// <summary>Argument validation shared by the low-precision Linear layers.</summary>
internal static class LowPrecisionChecks
{
    public static void Linear(ReadOnlySpan<float> x, int wLength, string wName, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
        Check.Length(x.Length, (long)n * inDim, nameof(x), $"N·I = {n}·{inDim}");
        Check.Length(wLength, (long)outDim * inDim, wName, $"O·I = {outDim}·{inDim}");
        if (!b.IsEmpty)
        {
            Check.Length(b.Length, outDim, nameof(b), $"O = {outDim} (or empty for no bias)");
        }

        Check.Destination(y.Length, (long)n * outDim, nameof(y), $"N·O = {n}·{outDim}");
        Check.NoOverlap(x, nameof(x), y, nameof(y));
        Check.NoOverlap(b, nameof(b), y, nameof(y));
    }
}
