// The two ceilings of a roofline (Williams, Waterman & Patterson 2009), measured on the machine at hand:
//
//   bandwidth  B = bytes moved / time    STREAM-style triad a[i] = b[i] + s·c[i] over three arrays far larger than
//                                        the caches: 12 bytes per element (read b, read c, write a), 2 FLOP
//   peak       P = FLOP / time           independent register-only FMA chains on the widest accelerated vector:
//                                        2 FLOP per lane per FMA, nothing touches memory
//
// A kernel with arithmetic intensity I = FLOP / byte cannot run faster than min(P, I·B). Both are best-of-n: noise
// (other processes, frequency changes) only ever slows a run down, so the fastest run is the closest to the ceiling.
using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CourseLib.Kernels;

namespace CourseLib.Performance;

/// <summary>
/// Measures the hardware limits a kernel is read against: streaming memory bandwidth (<see cref="TriadGBs"/>) and
/// the float32 FMA peak (<see cref="FmaPeakGflops"/>). Used by the performance lesson's roofline and by
/// CourseLib.Benchmarks. Each call takes tens of milliseconds with the defaults a notebook uses.
/// </summary>
public static class MachineCeilings
{
    /// <summary>Independent FMA chains per thread: more than latency × throughput (4 cycles × up to 2 FMAs per cycle on current x64 cores), so the FMA units never wait.</summary>
    public const int Chains = 12;

    /// <summary>Floats per FMA of the widest vector the JIT accelerates here (16 with AVX-512, 8 with AVX2, 4 with SSE/NEON, else 1).</summary>
    public static int VectorLanes =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count
        : Vector256.IsHardwareAccelerated ? Vector256<float>.Count
        : Vector128.IsHardwareAccelerated ? Vector128<float>.Count
        : 1;

    /// <summary>
    /// Streaming bandwidth in GB/s (10⁹ bytes per second): the fastest of <paramref name="repeats"/> triads
    /// a = b + 3·c over three float arrays of <paramref name="megabytesPerArray"/> MB each, split over
    /// <paramref name="threads"/> threads, after one untimed warm-up run (page faults, JIT).
    /// </summary>
    /// <param name="threads">Threads that share the arrays (1 = this thread only).</param>
    /// <param name="megabytesPerArray">Size of each of the three arrays; make it several times the last-level cache.</param>
    /// <param name="repeats">Timed runs; the best one is reported.</param>
    /// <param name="clock">Seconds, monotonic; default the wall clock. A thread-CPU clock suits one thread on a busy machine.</param>
    /// <exception cref="ArgumentOutOfRangeException">threads, megabytesPerArray or repeats is less than 1.</exception>
    public static double TriadGBs(int threads = 1, int megabytesPerArray = 64, int repeats = 5, Func<double>? clock = null)
    {
        Check.Positive(threads, nameof(threads));
        Check.Positive(megabytesPerArray, nameof(megabytesPerArray));
        Check.Positive(repeats, nameof(repeats));
        clock ??= WallClock;
        int count = megabytesPerArray * (1 << 20) / sizeof(float);
        float[] a = new float[count], b = new float[count], c = new float[count];
        b.AsSpan().Fill(1f);
        c.AsSpan().Fill(2f);
        int chunk = (count + threads - 1) / threads;
        double best = double.MaxValue;
        for (int r = 0; r <= repeats; r++)
        {
            double start = clock();
            Spread(threads, t =>
            {
                int from = Math.Min(count, t * chunk), len = Math.Min(count, from + chunk) - from;
                TensorPrimitives.MultiplyAdd(c.AsSpan(from, len), 3f, b.AsSpan(from, len), a.AsSpan(from, len));
            });
            double seconds = clock() - start;
            if (r > 0)
            {
                best = Math.Min(best, seconds);
            }
        }

        return 3.0 * sizeof(float) * count / best / 1e9;
    }

    /// <summary>
    /// Float32 FMA peak in GFLOP/s (counting an FMA as 2 FLOP per lane): the fastest of <paramref name="repeats"/> runs of
    /// <paramref name="iterations"/> rounds of <see cref="Chains"/> independent register-only FMA chains on
    /// <see cref="VectorLanes"/>-wide vectors, on each of <paramref name="threads"/> threads, after one untimed warm-up run.
    /// </summary>
    /// <param name="threads">Threads, each running its own chains.</param>
    /// <param name="iterations">Rounds per run (each round is <see cref="Chains"/> FMAs).</param>
    /// <param name="repeats">Timed runs; the best one is reported.</param>
    /// <param name="clock">Seconds, monotonic; default the wall clock.</param>
    /// <exception cref="ArgumentOutOfRangeException">threads, iterations or repeats is less than 1.</exception>
    public static double FmaPeakGflops(int threads = 1, long iterations = 20_000_000, int repeats = 5, Func<double>? clock = null)
    {
        Check.Positive(threads, nameof(threads));
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1, nameof(iterations));
        Check.Positive(repeats, nameof(repeats));
        clock ??= WallClock;
        double best = double.MaxValue;
        // Each thread keeps its chains' sum, so the JIT cannot drop the loop as dead code.
        var sinks = new float[threads];
        for (int r = 0; r <= repeats; r++)
        {
            double start = clock();
            Spread(threads, t => sinks[t] += FmaChains(iterations));
            double seconds = clock() - start;
            if (r > 0)
            {
                best = Math.Min(best, seconds);
            }
        }

        GC.KeepAlive(sinks);
        return 2.0 * Chains * VectorLanes * iterations * threads / best / 1e9;
    }

    private static double WallClock() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>Runs body(t) for t in [0, threads): inline for one thread (so a thread-CPU clock sees it), else in parallel.</summary>
    private static void Spread(int threads, Action<int> body)
    {
        if (threads == 1)
        {
            body(0);
            return;
        }

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    private static float FmaChains(long iterations) =>
        Vector512.IsHardwareAccelerated ? Fma512(iterations)
        : Vector256.IsHardwareAccelerated ? Fma256(iterations)
        : Vector128.IsHardwareAccelerated ? Fma128(iterations)
        : FmaScalar(iterations);

    // c ← c·m + k with m just below 1 stays finite and normal forever, so no denormal slow path skews the timing.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma512(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999999f), k = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, k);
            c1 = Vector512.FusedMultiplyAdd(c1, m, k);
            c2 = Vector512.FusedMultiplyAdd(c2, m, k);
            c3 = Vector512.FusedMultiplyAdd(c3, m, k);
            c4 = Vector512.FusedMultiplyAdd(c4, m, k);
            c5 = Vector512.FusedMultiplyAdd(c5, m, k);
            c6 = Vector512.FusedMultiplyAdd(c6, m, k);
            c7 = Vector512.FusedMultiplyAdd(c7, m, k);
            c8 = Vector512.FusedMultiplyAdd(c8, m, k);
            c9 = Vector512.FusedMultiplyAdd(c9, m, k);
            c10 = Vector512.FusedMultiplyAdd(c10, m, k);
            c11 = Vector512.FusedMultiplyAdd(c11, m, k);
        }

        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma256(long iterations)
    {
        Vector256<float> m = Vector256.Create(0.999999f), k = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, k);
            c1 = Vector256.FusedMultiplyAdd(c1, m, k);
            c2 = Vector256.FusedMultiplyAdd(c2, m, k);
            c3 = Vector256.FusedMultiplyAdd(c3, m, k);
            c4 = Vector256.FusedMultiplyAdd(c4, m, k);
            c5 = Vector256.FusedMultiplyAdd(c5, m, k);
            c6 = Vector256.FusedMultiplyAdd(c6, m, k);
            c7 = Vector256.FusedMultiplyAdd(c7, m, k);
            c8 = Vector256.FusedMultiplyAdd(c8, m, k);
            c9 = Vector256.FusedMultiplyAdd(c9, m, k);
            c10 = Vector256.FusedMultiplyAdd(c10, m, k);
            c11 = Vector256.FusedMultiplyAdd(c11, m, k);
        }

        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Fma128(long iterations)
    {
        Vector128<float> m = Vector128.Create(0.999999f), k = Vector128.Create(1e-7f);
        Vector128<float> c0 = Vector128.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, m, k);
            c1 = Vector128.FusedMultiplyAdd(c1, m, k);
            c2 = Vector128.FusedMultiplyAdd(c2, m, k);
            c3 = Vector128.FusedMultiplyAdd(c3, m, k);
            c4 = Vector128.FusedMultiplyAdd(c4, m, k);
            c5 = Vector128.FusedMultiplyAdd(c5, m, k);
            c6 = Vector128.FusedMultiplyAdd(c6, m, k);
            c7 = Vector128.FusedMultiplyAdd(c7, m, k);
            c8 = Vector128.FusedMultiplyAdd(c8, m, k);
            c9 = Vector128.FusedMultiplyAdd(c9, m, k);
            c10 = Vector128.FusedMultiplyAdd(c10, m, k);
            c11 = Vector128.FusedMultiplyAdd(c11, m, k);
        }

        return Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaScalar(long iterations)
    {
        const float m = 0.999999f, k = 1e-7f;
        float c0 = 1f, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = MathF.FusedMultiplyAdd(c0, m, k);
            c1 = MathF.FusedMultiplyAdd(c1, m, k);
            c2 = MathF.FusedMultiplyAdd(c2, m, k);
            c3 = MathF.FusedMultiplyAdd(c3, m, k);
            c4 = MathF.FusedMultiplyAdd(c4, m, k);
            c5 = MathF.FusedMultiplyAdd(c5, m, k);
            c6 = MathF.FusedMultiplyAdd(c6, m, k);
            c7 = MathF.FusedMultiplyAdd(c7, m, k);
            c8 = MathF.FusedMultiplyAdd(c8, m, k);
            c9 = MathF.FusedMultiplyAdd(c9, m, k);
            c10 = MathF.FusedMultiplyAdd(c10, m, k);
            c11 = MathF.FusedMultiplyAdd(c11, m, k);
        }

        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }
}
