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
    internal static Lease Floats(int count, out float[] buffer) =>
        Take(ref t_floats, ref t_floatsTaken, count, doubles: false, out buffer);

    /// <summary>This thread's double buffer, at least <paramref name="count"/> long; dispose the lease to give it back.</summary>
    internal static Lease Doubles(int count, out double[] buffer) =>
        Take(ref t_doubles, ref t_doublesTaken, count, doubles: true, out buffer);

    // The buffer grows to the size asked for, rounded up to 1,024 elements so that slightly different sizes share it.
    private static Lease Take<T>(ref T[]? held, ref bool taken, int count, bool doubles, out T[] buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (taken)
        {
            string type = doubles ? "double" : "float";
            throw new InvalidOperationException($"This thread's {type} scratch is already taken: a kernel holding it called another kernel that takes it.");
        }

        if (held is null || held.Length < count)
        {
            held = new T[(int)Math.Min(((long)count + 1023) & ~1023L, Math.Max(count, Array.MaxLength))];
        }

        buffer = held;
        taken = true;
        return new Lease(doubles, Environment.CurrentManagedThreadId);
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
