namespace CourseLib.Kernels;

/// <summary>
/// How many threads the kernels may use, and the one helper they use to split work. Kernels run single-threaded
/// below a size threshold (thread hand-off costs microseconds, more than a small row-wise op takes).
/// </summary>
public static class KernelThreads
{
    private static int s_max = Environment.ProcessorCount;

    /// <summary>Upper bound on threads any kernel uses (default: all cores). Set 1 for single-threaded runs.</summary>
    public static int Max
    {
        get => s_max;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_max = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in contiguous chunks, on up to
    /// <see cref="Max"/> threads, using at most one thread per <paramref name="minPerThread"/> items. The calling
    /// thread does the first chunk, so a single chunk costs no hand-off.
    /// </summary>
    public static void For(int count, int minPerThread, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0)
        {
            return;
        }

        int threads = Math.Min(s_max, Math.Max(1, count / Math.Max(1, minPerThread)));
        if (threads <= 1)
        {
            body(0, count);
            return;
        }

        int chunk = (count + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            int start = i * chunk;
            int end = Math.Min(count, start + chunk);
            if (start < end)
            {
                body(start, end);
            }
        });
    }
}
