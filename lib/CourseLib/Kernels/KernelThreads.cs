using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace CourseLib.Kernels;

/// <summary>A piece of work over an index range, run by <see cref="KernelThreads.For{TBody}(int, int, ref TBody)"/>.</summary>
public interface IRangeBody
{
    /// <summary>Processes the indices [<paramref name="start"/>, <paramref name="endExclusive"/>).</summary>
    void Run(int start, int endExclusive);
}

/// <summary>
/// How many threads the kernels may use, and the one helper they use to split work. Kernels run single-threaded
/// below a size threshold (thread hand-off costs microseconds, more than a small row-wise op takes).
/// </summary>
/// <remarks>
/// Work goes to background helper threads (started on first use, at most <see cref="Max"/> − 1 of them), so a
/// multi-threaded call allocates nothing in steady state. A helper spins for 200 µs after its last chunk and then
/// parks, so calls that follow each other closely (a training step) do not pay for waking a thread. Only one caller
/// uses them at a time: a call made while they are busy (from inside a chunk, or from a second thread) runs its
/// chunks one after another on its own thread instead of waiting, so nesting and concurrent callers cannot
/// deadlock. Either way the chunks, and so the results, are the same.
/// </remarks>
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
    /// <remarks>
    /// Allocates nothing when <paramref name="body"/> is a cached delegate or a non-capturing (static) lambda; a
    /// lambda that captures locals allocates its closure on every call; use
    /// <see cref="For{TBody}(int, int, ref TBody)"/> with a struct body on hot paths.
    /// </remarks>
    public static void For(int count, int minPerThread, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var wrapped = new DelegateBody(body);
        For(count, minPerThread, ref wrapped);
    }

    /// <summary>
    /// Runs <paramref name="body"/>.Run(start, end) over [0, <paramref name="count"/>) in contiguous chunks of
    /// ⌈count / threads⌉, on up to <see cref="Max"/> threads, using at most one thread per
    /// <paramref name="minPerThread"/> items. The calling thread does the first chunk. No allocation, no boxing.
    /// </summary>
    /// <remarks>
    /// All chunks share one copy of <paramref name="body"/>, concurrently: it must not change its own fields.
    /// An exception from any chunk is rethrown here (the calling thread's own first), after every chunk finished.
    /// </remarks>
    public static void For<TBody>(int count, int minPerThread, ref TBody body)
        where TBody : struct, IRangeBody
    {
        if (count <= 0)
        {
            return;
        }

        int threads = Math.Min(s_max, Math.Max(1, count / Math.Max(1, minPerThread)));
        if (threads <= 1)
        {
            body.Run(0, count);
            return;
        }

        int chunk = (count + threads - 1) / threads;
        if (!Pool.TryRun(ref body, count, chunk, threads))
        {
            for (int start = 0; start < count; start += chunk)
            {
                body.Run(start, Math.Min(count, start + chunk));
            }
        }
    }

    private readonly struct DelegateBody(Action<int, int> body) : IRangeBody
    {
        public void Run(int start, int end) => body(start, end);
    }

    /// <summary>
    /// The body of the job in flight, for the helpers. Only the thread that holds the pool writes it, so one slot
    /// per body type suffices; a cached delegate reaches it without boxing.
    /// </summary>
    private static class Slot<TBody>
        where TBody : struct, IRangeBody
    {
        public static TBody Body;
        public static readonly Action<int, int> Invoke = static (start, end) => Body.Run(start, end);
    }

    /// <summary>
    /// The helpers and the hand-off. Each helper taking part in a job is handed its number; a helper that finished its
    /// last chunk recently is still spinning on that number and starts within a fraction of a microsecond. One that
    /// has waited longer than <see cref="SpinTicks"/> parks (<see cref="Mailbox"/>), and the caller wakes it (tens of
    /// microseconds on a VM: the reason for spinning first, since a training step makes hundreds of calls with
    /// short gaps between them). The caller, after its own chunk, spins until the helpers are done.
    /// </summary>
    private static class Pool
    {
        /// <summary>How long an idle helper spins before it parks: 200 µs in Stopwatch ticks (measured in <c>Kernels/README.md</c>).</summary>
        private static readonly long SpinTicks = Stopwatch.Frequency / 5000;

        private static readonly List<Helper> s_helpers = [];
        private static int s_busy;
        private static int s_generation;
        private static int s_pending;
        private static Action<int, int>? s_invoke;
        private static int s_count;
        private static int s_chunk;
        private static Exception? s_error;

        /// <summary>
        /// Runs the chunks on the caller (chunk 0) and <paramref name="threads"/> − 1 helpers. Returns false,
        /// having run nothing, when another call holds the helpers.
        /// </summary>
        public static bool TryRun<TBody>(ref TBody body, int count, int chunk, int threads)
            where TBody : struct, IRangeBody
        {
            // An interlocked flag rather than a lock: a lock is re-entrant, and a chunk that calls a kernel on the
            // thread holding the pool must fall back, not hand work to helpers that are busy with its own job.
            if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
            {
                return false;
            }

            try
            {
                while (s_helpers.Count < threads - 1)
                {
                    s_helpers.Add(new Helper(s_helpers.Count + 1));
                }

                Slot<TBody>.Body = body;
                s_invoke = Slot<TBody>.Invoke;
                s_count = count;
                s_chunk = chunk;
                s_error = null;
                Volatile.Write(ref s_pending, threads - 1);
                int job = ++s_generation;
                for (int part = 1; part < threads; part++)
                {
                    s_helpers[part - 1].Post(job);
                }

                Exception? mine = null;
                try
                {
                    body.Run(0, Math.Min(count, chunk));
                }
                catch (Exception e)
                {
                    mine = e;
                }

                // Always wait: the helpers may read pointers that stay pinned only while the caller is inside.
                var spin = default(SpinWait);
                while (Volatile.Read(ref s_pending) != 0)
                {
                    spin.SpinOnce(sleep1Threshold: -1);   // yields when spinning long, never sleeps a millisecond
                }

                s_invoke = null;
                Slot<TBody>.Body = default;
                Exception? error = mine ?? s_error;
                s_error = null;
                if (error is not null)
                {
                    ExceptionDispatchInfo.Throw(error);
                }

                return true;
            }
            finally
            {
                Volatile.Write(ref s_busy, 0);
            }
        }

        /// <summary>Helper thread <c>part</c> (1, 2, …): runs chunk <c>part</c> of every job.</summary>
        private sealed class Helper
        {
            private readonly Mailbox _mailbox = new(SpinTicks);
            private readonly int _part;

            public Helper(int part)
            {
                _part = part;
                var thread = new Thread(Loop) { IsBackground = true, Name = $"CourseLib kernel helper {part}" };
                thread.Start();
            }

            /// <summary>Hands the helper job number <paramref name="job"/>; its parameters are in the pool's fields.</summary>
            public void Post(int job) => _mailbox.Post(job);

            private void Loop()
            {
                int seen = 0;
                while (true)
                {
                    seen = _mailbox.WaitForNext(seen);
                    try
                    {
                        int from = _part * s_chunk;
                        int to = Math.Min(s_count, from + s_chunk);
                        if (from < to)
                        {
                            s_invoke!(from, to);
                        }
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref s_error, e, null);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref s_pending);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One helper's inbox: the number of the last job posted to it, and how it waits for the next one. It spins for
    /// <c>spinTicks</c> and then parks on a semaphore; a poster releases it only if it parked, and exactly one of
    /// the two turns <c>_parked</c> from 1 to 0, so a release is never lost or doubled.
    /// </summary>
    /// <remarks>
    /// A release can still come late. Posting is two steps: publish the number, then look at <c>_parked</c>. A poster
    /// preempted between them (a busy VM) can find the helper already done with that job and parked again, and
    /// release it with nothing new to do. <see cref="WaitForNext"/> therefore returns only a number it has not seen:
    /// it once returned on any release, and a helper woken late ran its chunk a second time: it could add into a
    /// gradient twice, decrement the pending count twice (the caller then spun forever), or run after the caller had
    /// left, through pointers no longer pinned (an access violation in a CI run).
    /// </remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
        Justification = "Lives as long as the process, like the parked background thread that waits on it.")]
    internal sealed class Mailbox(long spinTicks)
    {
        private readonly SemaphoreSlim _wake = new(0);
        private int _job;      // the last job posted
        private int _parked;   // 1 while the helper blocks (or is about to) on _wake

        /// <summary>True while the helper is parked, or about to park (for tests).</summary>
        internal bool IsParked => Volatile.Read(ref _parked) == 1;

        /// <summary>Posts job number <paramref name="job"/>: publishes it, then releases the helper if it parked.</summary>
        public void Post(int job)
        {
            Publish(job);
            WakeIfParked();
        }

        /// <summary>The first step of <see cref="Post"/>: a full fence, so the job's fields are visible before its number.</summary>
        internal void Publish(int job) => Interlocked.Exchange(ref _job, job);

        /// <summary>The second step of <see cref="Post"/>; tests call the two apart to play a preempted poster.</summary>
        internal void WakeIfParked()
        {
            if (Interlocked.CompareExchange(ref _parked, 0, 1) == 1)
            {
                _wake.Release();
            }
        }

        /// <summary>Waits until a job other than <paramref name="seen"/> has been posted, and returns its number.</summary>
        public int WaitForNext(int seen)
        {
            long start = Stopwatch.GetTimestamp();
            int job;
            while ((job = Volatile.Read(ref _job)) == seen)
            {
                if (Stopwatch.GetTimestamp() - start <= spinTicks)
                {
                    for (int i = 0; i < 64 && Volatile.Read(ref _job) == seen; i++)
                    {
                        Thread.SpinWait(1);
                    }
                }
                else
                {
                    Park(seen);
                    start = Stopwatch.GetTimestamp();   // woken, maybe by a late release: look again, spin, park again
                }
            }

            return job;
        }

        private void Park(int seen)
        {
            Interlocked.Exchange(ref _parked, 1);
            if (Volatile.Read(ref _job) != seen && Interlocked.CompareExchange(ref _parked, 0, 1) == 1)
            {
                return;   // a job came in between, and no poster saw us parked: no release to consume
            }

            _wake.Wait();   // a poster turned _parked to 0 and released (or will release) once
        }
    }
}
