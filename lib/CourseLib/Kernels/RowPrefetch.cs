using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// Software prefetch for row-wise kernels whose input comes from beyond the core's caches: before a row is processed,
/// the kernel asks for the lines of the row <see cref="RowsAhead"/> rows further on, about 6 KB ahead.
/// <para>
/// Each row's first pass (a sum, a maximum) waits on memory, and the hardware prefetchers did not stay far enough
/// ahead of it (why, for rows of 2 KB and more only, was not established). Measured on one Zen 5 core with both builds
/// in one process, LayerNorm forward: 4096×768 −10 % (median of eight runs, −17 to +4 %; up to −29 % in runs where
/// the baseline was slow), 4096×1024 and 2048×1024 from +5 % to −62 % depending on the run (rows of 4 KB), 8192×512
/// −7 to −28 %. One row ahead was too close and 12–16 KB too far (8192×512 then slower than without). Inputs that fit
/// in L3 (4096×256 and 2048×512, 4 MB) got 12–32 % slower, so only inputs past LayerNorm's streaming limit (8 MB)
/// prefetch.
/// </para>
/// <para>
/// LayerNorm's forward uses it as above; <see cref="Row"/> also serves <c>Gemm.PrefetchBlock</c>, which requests a cold
/// block of B row by row before a small product reads it in place, and <c>Attention.PrefetchRows</c>, for the next
/// item's rows of att. Softmax's backward prefetches its own way (the next row of three streams, inside
/// its dot-product loop; see <c>Softmax.PrefetchesRows</c>). Softmax's forward with this helper was measured and
/// left without: SoftmaxCE forward 4096×768 got 4–9 % faster but softmax forward 4096×768 18–26 % slower, and both
/// run the same row loop. Residual+LN's streaming forward gave mixed results (−20 to +22 %). LayerNorm's backward
/// prefetches its own way too (the next group of four rows, inside each row's first pass; see
/// <c>LayerNorm.BackwardRows</c>).
/// </para>
/// </summary>
internal static class RowPrefetch
{
    /// <summary>How far ahead the prefetched row starts, in bytes.</summary>
    internal const int DistanceBytes = 6 * 1024;

    /// <summary>
    /// Whether rows of <paramref name="c"/> floats, in an input already beyond the caches (the callers ask only when
    /// <see cref="LayerNorm.Streams"/> holds), are prefetched: rows of 2 KB or more. Narrower rows are one sequential
    /// stream the hardware follows well: LayerNorm forward 16384×256 got ~40 % slower with the prefetches.
    /// </summary>
    internal static bool Pays(int c) => Sse.IsSupported && c >= 512;

    /// <summary>Rows between the one being processed and the one prefetched: at least 1, about 6 KB.</summary>
    internal static int RowsAhead(int c) => Math.Max(1, ((DistanceBytes / sizeof(float)) + c - 1) / c);

    /// <summary>
    /// Asks for every 64-byte line of the row of <paramref name="c"/> floats at <paramref name="row"/>: one request per
    /// 16 floats from its start, and one for its last float, whose line the steps miss when the row does not start on a
    /// line (a prefetch never faults).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Row(float* row, int c)
    {
        for (int j = 0; j < c; j += 16)
        {
            Sse.Prefetch0(row + j);
        }

        Sse.Prefetch0(row + c - 1);
    }
}
