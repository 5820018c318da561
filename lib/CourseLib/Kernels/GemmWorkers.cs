// Parked helper threads for the multi-threaded SGEMM: a product splits into at most KernelThreads.Max parts;
// the caller runs part 0 and the helpers the rest. Compared with Parallel.For (what KernelThreads.For uses),
// a hand-off here allocates nothing and wakes a thread that is already waiting for exactly this, which matters
// for the T = 64 products that take only a few hundred microseconds.
namespace CourseLib.Kernels;

internal static partial class Gemm
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable",
        Justification = "One instance lives as long as the process, like its parked background threads.")]
    private sealed class Workers
    {
        private static readonly Lock s_gate = new();
        private static Workers? s_instance;

        private readonly SemaphoreSlim[] _start;
        private readonly CountdownEvent _done = new(1);
        private Action<int, int>? _body;
        private Exception? _error;

        private Workers(int helpers)
        {
            _start = new SemaphoreSlim[helpers];
            for (int i = 0; i < helpers; i++)
            {
                _start[i] = new SemaphoreSlim(0);
                int part = i + 1;
                var thread = new Thread(() => Loop(part)) { IsBackground = true, Name = $"CourseLib GEMM helper {part}" };
                thread.Start();
            }
        }

        /// <summary>
        /// Runs body(p, p + 1) for every part p in [0, parts): part 0 on the calling thread, the others on the
        /// helpers. Returns false, having run nothing, when the helpers are busy with another caller's product
        /// or there are not enough of them; the caller then falls back to <see cref="KernelThreads.For"/>.
        /// </summary>
        public static bool TryRun(int parts, Action<int, int> body)
        {
            int helpers = Environment.ProcessorCount - 1;
            if (parts - 1 > helpers || !s_gate.TryEnter())
            {
                return false;
            }

            try
            {
                Workers w = s_instance ??= new Workers(helpers);
                w._body = body;
                w._error = null;
                w._done.Reset(parts - 1);
                for (int p = 1; p < parts; p++)
                {
                    w._start[p - 1].Release();
                }

                Exception? mine = null;
                try
                {
                    body(0, 1);
                }
                catch (Exception e)
                {
                    mine = e;
                }

                // Always wait: the helpers read the job's pointers, which stay pinned only while the caller is inside.
                w._done.Wait();
                w._body = null;
                Exception? error = mine ?? w._error;
                if (error is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
                }

                return true;
            }
            finally
            {
                s_gate.Exit();
            }
        }

        private void Loop(int part)
        {
            while (true)
            {
                _start[part - 1].Wait();
                try
                {
                    _body!(part, part + 1);
                }
                catch (Exception e)
                {
                    _error = e;
                }
                finally
                {
                    _done.Signal();
                }
            }
        }
    }
}
