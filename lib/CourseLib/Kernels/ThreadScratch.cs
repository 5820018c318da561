using System.Diagnostics;

namespace CourseLib.Kernels;

/// <summary>
/// Scratch memory for kernels: one buffer per thread and element type, kept for the thread's life and grown when a
/// larger call comes, so that calls in a steady state allocate nothing.
/// <para>
/// <see cref="System.Buffers.ArrayPool{T}.Shared"/> cannot promise that. After a full garbage collection under memory
/// pressure it drops the arrays it holds, and the next rental allocates. A training-step test that asserts zero bytes
/// per step (a DeepMlp with BatchNorm, whose kernels rented their scratch) measured 5,992 bytes once, with the other
/// tests running beside it.
/// </para>
/// <para>
/// Usage: <c>using var lease = ThreadScratch.Floats(count, out float[] buffer);</c>. The kernel may hand pointers into
/// the buffer to helper threads. Taking a second buffer of the same type on the same thread before the first lease is
/// disposed throws <see cref="InvalidOperationException"/>: both would be the same memory. So a kernel that holds one
/// must not call another kernel that takes one of the same type. A lease is disposed on the thread that took it:
/// kernels are synchronous, and no code may hold one across an <c>await</c>.
/// </para>
/// </summary>
internal static class ThreadScratch
{
    [ThreadStatic]
    private static float[]? t_floats;

    [ThreadStatic]
    private static double[]? t_doubles;

    [ThreadStatic]
    private static bool t_floatsTaken;

    [ThreadStatic]
    private static bool t_doublesTaken;

    /// <summary>This thread's float buffer, at least <paramref name="count"/> long; dispose the lease to give it back.</summary>
    internal static Lease Floats(int count, out float[] buffer)
    {
        if (t_floatsTaken)
        {
            throw new InvalidOperationException("This thread's float scratch is already taken: a kernel holding it called another kernel that takes it.");
        }

        buffer = Grow(ref t_floats, count);
        t_floatsTaken = true;
        return new Lease(doubles: false, Environment.CurrentManagedThreadId);
    }

    /// <summary>This thread's double buffer, at least <paramref name="count"/> long; dispose the lease to give it back.</summary>
    internal static Lease Doubles(int count, out double[] buffer)
    {
        if (t_doublesTaken)
        {
            throw new InvalidOperationException("This thread's double scratch is already taken: a kernel holding it called another kernel that takes it.");
        }

        buffer = Grow(ref t_doubles, count);
        t_doublesTaken = true;
        return new Lease(doubles: true, Environment.CurrentManagedThreadId);
    }

    // Grown to the size asked for, rounded up to 1,024 elements so that slightly different sizes share a buffer.
    private static T[] Grow<T>(ref T[]? held, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (held is null || held.Length < count)
        {
            held = new T[(int)Math.Min(((long)count + 1023) & ~1023L, Math.Max(count, Array.MaxLength))];
        }

        return held;
    }

    /// <summary>Gives the buffer back when disposed.</summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly bool _doubles;
        private readonly int _thread;

        internal Lease(bool doubles, int thread)
        {
            _doubles = doubles;
            _thread = thread;
        }

        public void Dispose()
        {
            Debug.Assert(_thread == Environment.CurrentManagedThreadId, "A scratch lease was disposed on another thread than the one that took it.");
            if (_doubles)
            {
                t_doublesTaken = false;
            }
            else
            {
                t_floatsTaken = false;
            }
        }
    }
}
