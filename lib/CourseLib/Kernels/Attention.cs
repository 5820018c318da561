// Causal multi-head self-attention, llm.c layout.
//
//   qkv:  [B, T, 3C]   per token: q | k | v, each C = H·d (head h owns columns h·d .. h·d + d − 1)
//   out:  [B, T, C]
//   att:  [B, H, T, T] cache: softmax probabilities, zero above the diagonal
//
//   s[t, t2]   = (q_t · k_t2) / √d                 for t2 ≤ t (the causal mask drops t2 > t)
//   att[t, t2] = exp(s[t, t2] − max_t) / Σ_j exp(s[t, j] − max_t)
//   out[t]     = Σ_{t2 ≤ t} att[t, t2] · v_t2
//
// Backward (dqkv += …), per (b, h):
//   dv_t2     += Σ_{t ≥ t2} att[t, t2] · dout_t
//   datt[t,t2] = dout_t · v_t2
//   ds[t,t2]   = att[t,t2] · (datt[t,t2] − Σ_j att[t,j]·datt[t,j]) / √d     (softmax backward, scale folded in)
//   dq_t      += Σ_{t2 ≤ t} ds[t,t2] · k_t2
//   dk_t2     += Σ_{t ≥ t2} ds[t,t2] · q_t
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// Causal multi-head self-attention in llm.c's layout: <c>qkv[B,T,3C] → out[B,T,C]</c>, caching the softmax
/// probabilities <c>att[B,H,T,T]</c> (zero above the diagonal), which is all the backward pass needs besides qkv.
/// </summary>
/// <remarks>
/// The fast path works one (batch, head) pair at a time, threads over the B·H pairs, and skips the masked upper
/// triangle (except inside the one 16-key vector that straddles the diagonal, whose extra lanes are discarded).
/// It packs the head's keys transposed (<c>Kᵀ[d, T]</c>) and its values as rows padded to 16 floats, then handles
/// four queries (and in backward four keys) per pass: each Vector512 load of Kᵀ, V, dout, Q or K feeds
/// four fused multiply-adds into 16 register accumulators. With AVX-512 a softmax row is a few whole vectors and one
/// masked one, exponentials from <see cref="Softmax"/>'s kernel (rows are T long at most, so five library calls per row
/// used to cost more than the row); otherwise it goes through <see cref="TensorPrimitives"/>.
/// Without AVX-512 (e.g. AMD Zen 3 machines) it runs one-row Vector256 kernels; without AVX2 the reference loops.
/// Scratch is one buffer per thread, kept for the thread's life, and work goes to <see cref="KernelThreads"/>' parked
/// helpers, so steady-state calls do not allocate, single- or multi-threaded (an <c>ArrayPool</c> rental could: the
/// shared pool may drop its arrays after a full garbage collection); the backward pass
/// needs T·T floats of scratch per thread for ds, the size of one head's slice of the cache.
/// NaN or ∞ in qkv propagate to out and att (a row whose scores contain NaN becomes NaN).
/// </remarks>
public static class Attention
{
    // Below this many multiply-adds per thread, a hand-off to a second thread costs more than it saves.
    private const long MinWorkPerThread = 1L << 19;

    /// <summary>
    /// Fast forward: writes <paramref name="output"/> [B,T,C] and <paramref name="att"/> [B,H,T,T] from
    /// <paramref name="qkv"/> [B,T,3C].
    /// </summary>
    /// <param name="qkv">Queries, keys and values, [B, T, 3C].</param>
    /// <param name="output">Destination [B, T, C].</param>
    /// <param name="att">Destination [B, H, T, T]: softmax probabilities, zero above the diagonal.</param>
    /// <param name="b">Batch size B.</param>
    /// <param name="t">Sequence length T.</param>
    /// <param name="c">Channels C = H·d.</param>
    /// <param name="heads">Number of heads H; must divide C.</param>
    public static unsafe void Forward(ReadOnlySpan<float> qkv, Span<float> output, Span<float> att, int b, int t, int c, int heads)
    {
        ValidateForward(qkv, output, att, b, t, c, heads);
        if (!Vector256.IsHardwareAccelerated)
        {
            ForwardReference(qkv, output, att, b, t, c, heads);
            return;
        }

        fixed (float* pqkv = qkv, pout = output, patt = att)
        {
            var job = new Job(pqkv, pout, patt, null, b, t, c, heads, accumulate: false);
            int items = b * heads;
            int minPerThread = MinItemsPerThread(t, c / heads);
            if (items < 2 * minPerThread || KernelThreads.Max == 1)
            {
                ForwardRange(job, 0, items);
            }
            else
            {
                ForwardParallel(job, items, minPerThread);
            }
        }
    }

    /// <summary>
    /// Fast backward: accumulates <c>dqkv += ∂L/∂qkv</c> given <paramref name="dout"/> = ∂L/∂out and the
    /// forward's <paramref name="qkv"/> and <paramref name="att"/>.
    /// </summary>
    /// <param name="dout">Gradient of the loss with respect to out, [B, T, C].</param>
    /// <param name="qkv">The forward input, [B, T, 3C].</param>
    /// <param name="att">The forward cache, [B, H, T, T].</param>
    /// <param name="dqkv">Gradient accumulator [B, T, 3C] (not zeroed here).</param>
    /// <param name="b">Batch size B.</param>
    /// <param name="t">Sequence length T.</param>
    /// <param name="c">Channels C = H·d.</param>
    /// <param name="heads">Number of heads H; must divide C.</param>
    public static void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads) =>
        BackwardInto(dout, qkv, att, dqkv, b, t, c, heads, accumulate: true);

    /// <summary>
    /// As <see cref="Backward"/>,
    /// but dqkv is overwritten (dqkv = ∂L/∂qkv): each of its elements is produced exactly once, so a layer that owns the
    /// buffer saves clearing it first.
    /// </summary>
    internal static void BackwardOverwriting(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads) =>
        BackwardInto(dout, qkv, att, dqkv, b, t, c, heads, accumulate: false);

    private static unsafe void BackwardInto(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads, bool accumulate)
    {
        ValidateBackward(dout, qkv, att, dqkv, b, t, c, heads);
        if (!Vector256.IsHardwareAccelerated)
        {
            if (!accumulate)
            {
                dqkv[..(b * t * 3 * c)].Clear();
            }

            BackwardReference(dout, qkv, att, dqkv, b, t, c, heads);
            return;
        }

        fixed (float* pdout = dout, pqkv = qkv, patt = att, pdqkv = dqkv)
        {
            var job = new Job(pqkv, pdout, patt, pdqkv, b, t, c, heads, accumulate);
            int items = b * heads;
            // Backward does about twice the forward's multiply-adds per pair.
            int minPerThread = Math.Max(1, MinItemsPerThread(t, c / heads) / 2);
            if (items < 2 * minPerThread || KernelThreads.Max == 1)
            {
                BackwardRange(job, 0, items);
            }
            else
            {
                BackwardParallel(job, items, minPerThread);
            }
        }
    }

    /// <summary>
    /// Reference forward: llm.c's <c>attention_forward</c> loop by loop (scores and running max, exp and sum,
    /// normalise and mask, weighted sum of values). Same contract as <see cref="Forward"/>.
    /// </summary>
    /// <param name="qkv">Queries, keys and values, [B, T, 3C].</param>
    /// <param name="output">Destination [B, T, C].</param>
    /// <param name="att">Destination [B, H, T, T].</param>
    /// <param name="b">Batch size B.</param>
    /// <param name="t">Sequence length T.</param>
    /// <param name="c">Channels C = H·d.</param>
    /// <param name="heads">Number of heads H; must divide C.</param>
    public static void ForwardReference(ReadOnlySpan<float> qkv, Span<float> output, Span<float> att, int b, int t, int c, int heads)
    {
        ValidateForward(qkv, output, att, b, t, c, heads);
        int c3 = 3 * c;
        int hs = c / heads;
        float scale = 1f / MathF.Sqrt(hs);

        for (int bi = 0; bi < b; bi++)
        {
            for (int ti = 0; ti < t; ti++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int query = bi * t * c3 + ti * c3 + h * hs;
                    int attRow = bi * heads * t * t + h * t * t + ti * t;

                    // Pass 1: scores q·k/√d for the keys this query may see, and their maximum.
                    // llm.c starts from −10000 (marked TODO there): if every score were below it, exp(s − max) would underflow
                    // to 0 and the row would come out all zero instead of a distribution.
                    float maxval = float.NegativeInfinity;
                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        int key = bi * t * c3 + t2 * c3 + h * hs + c;
                        float val = 0f;
                        for (int i = 0; i < hs; i++)
                        {
                            val += qkv[query + i] * qkv[key + i];
                        }

                        val *= scale;
                        if (val > maxval)
                        {
                            maxval = val;
                        }

                        att[attRow + t2] = val;
                    }

                    // Pass 2: exp(s − max) keeps every exponent ≤ 0, so nothing overflows.
                    float expsum = 0f;
                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        float expv = MathF.Exp(att[attRow + t2] - maxval);
                        expsum += expv;
                        att[attRow + t2] = expv;
                    }

                    float expsumInv = expsum == 0f ? 0f : 1f / expsum;

                    // Pass 3: normalise; the masked future gets probability exactly 0.
                    for (int t2 = 0; t2 < t; t2++)
                    {
                        att[attRow + t2] = t2 <= ti ? att[attRow + t2] * expsumInv : 0f;
                    }

                    // Pass 4: out = Σ att · v.
                    int outRow = bi * t * c + ti * c + h * hs;
                    for (int i = 0; i < hs; i++)
                    {
                        output[outRow + i] = 0f;
                    }

                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        int value = bi * t * c3 + t2 * c3 + h * hs + 2 * c;
                        float a = att[attRow + t2];
                        for (int i = 0; i < hs; i++)
                        {
                            output[outRow + i] += a * qkv[value + i];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Reference backward: llm.c's <c>attention_backward</c> loop by loop (through the value sum, through the
    /// softmax, through q·k). Same contract as <see cref="Backward"/>; the two T-long rows llm.c keeps for
    /// datt and dpreatt are local scratch here.
    /// </summary>
    /// <param name="dout">Gradient of the loss with respect to out, [B, T, C].</param>
    /// <param name="qkv">The forward input, [B, T, 3C].</param>
    /// <param name="att">The forward cache, [B, H, T, T].</param>
    /// <param name="dqkv">Gradient accumulator [B, T, 3C].</param>
    /// <param name="b">Batch size B.</param>
    /// <param name="t">Sequence length T.</param>
    /// <param name="c">Channels C = H·d.</param>
    /// <param name="heads">Number of heads H; must divide C.</param>
    public static void BackwardReference(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads)
    {
        ValidateBackward(dout, qkv, att, dqkv, b, t, c, heads);
        int c3 = 3 * c;
        int hs = c / heads;
        float scale = 1f / MathF.Sqrt(hs);
        var datt = new float[t];
        var dpreatt = new float[t];

        for (int bi = 0; bi < b; bi++)
        {
            for (int ti = 0; ti < t; ti++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int attRow = bi * heads * t * t + h * t * t + ti * t;
                    int query = bi * t * c3 + ti * c3 + h * hs;
                    int doutRow = bi * t * c + ti * c + h * hs;
                    Array.Clear(datt);
                    Array.Clear(dpreatt);

                    // Through pass 4 (out += att·v).
                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        int value = bi * t * c3 + t2 * c3 + h * hs + 2 * c;
                        for (int i = 0; i < hs; i++)
                        {
                            datt[t2] += qkv[value + i] * dout[doutRow + i];
                            dqkv[value + i] += att[attRow + t2] * dout[doutRow + i];
                        }
                    }

                    // Through passes 2 and 3 (softmax): d att_t2 / d s_t3 = att_t2 (1[t2 = t3] − att_t3).
                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        for (int t3 = 0; t3 <= ti; t3++)
                        {
                            float indicator = t2 == t3 ? 1f : 0f;
                            float localDerivative = att[attRow + t2] * (indicator - att[attRow + t3]);
                            dpreatt[t3] += localDerivative * datt[t2];
                        }
                    }

                    // Through pass 1 (s = q·k·scale).
                    for (int t2 = 0; t2 <= ti; t2++)
                    {
                        int key = bi * t * c3 + t2 * c3 + h * hs + c;
                        for (int i = 0; i < hs; i++)
                        {
                            dqkv[query + i] += qkv[key + i] * dpreatt[t2] * scale;
                            dqkv[key + i] += qkv[query + i] * dpreatt[t2] * scale;
                        }
                    }
                }
            }
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> qkv, Span<float> output, Span<float> att, int b, int t, int c, int heads)
    {
        ValidateShape(b, t, c, heads);
        Length(qkv.Length, 3L * b * t * c, nameof(qkv), "B·T·3C", b, t, 3, c);
        Destination(output.Length, (long)b * t * c, nameof(output), "B·T·C", b, t, c);
        Destination(att.Length, (long)b * heads * t * t, nameof(att), "B·H·T·T", b, heads, t, t);
        Check.NoOverlap(qkv, nameof(qkv), output, nameof(output));
        Check.NoOverlap(qkv, nameof(qkv), att, nameof(att));
        Check.NoOverlap<float>(att, nameof(att), output, nameof(output));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads)
    {
        ValidateShape(b, t, c, heads);
        Length(dout.Length, (long)b * t * c, nameof(dout), "B·T·C", b, t, c);
        Length(qkv.Length, 3L * b * t * c, nameof(qkv), "B·T·3C", b, t, 3, c);
        Length(att.Length, (long)b * heads * t * t, nameof(att), "B·H·T·T", b, heads, t, t);
        Destination(dqkv.Length, 3L * b * t * c, nameof(dqkv), "B·T·3C", b, t, 3, c);
        Check.NoOverlap(dout, nameof(dout), dqkv, nameof(dqkv));
        Check.NoOverlap(qkv, nameof(qkv), dqkv, nameof(dqkv));
        Check.NoOverlap(att, nameof(att), dqkv, nameof(dqkv));
    }

    // The shape text is formatted only on failure, so validation allocates nothing on the hot path.
    private static void Length(int actual, long expected, string name, string dims, params ReadOnlySpan<int> values)
    {
        if (actual != expected)
        {
            Check.Length(actual, expected, name, $"{dims} = {string.Join("·", values.ToArray())}");
        }
    }

    private static void Destination(int actual, long expected, string name, string dims, params ReadOnlySpan<int> values)
    {
        if (actual < expected)
        {
            Check.Destination(actual, expected, name, $"{dims} = {string.Join("·", values.ToArray())}");
        }
    }

    private static void ValidateShape(int b, int t, int c, int heads)
    {
        Check.Positive(b, nameof(b));
        Check.Positive(t, nameof(t));
        Check.Positive(c, nameof(c));
        Check.Positive(heads, nameof(heads));
        if (c % heads != 0)
        {
            throw new ArgumentException($"c = {c} is not divisible by heads = {heads}; each head needs d = C/H channels.", nameof(heads));
        }

        if ((long)b * heads * t * t > int.MaxValue || 3L * b * t * c > int.MaxValue)
        {
            throw new ArgumentException($"B·H·T·T = {(long)b * heads * t * t} or B·T·3C = {3L * b * t * c} exceeds a span's length limit.", nameof(t));
        }
    }

    private static int MinItemsPerThread(int t, int d)
    {
        long perItem = Math.Max(1L, (long)t * t * d);
        return (int)Math.Clamp(MinWorkPerThread / perItem, 1, int.MaxValue);
    }

    private static int Pad16(int n) => (n + 15) & ~15;

    // Pointers and shape of one call; a plain struct the thread bodies carry (a span could not be a field).
    private readonly unsafe struct Job(float* qkv, float* seq, float* att, float* dqkv, int b, int t, int c, int heads, bool accumulate)
    {
        public readonly bool Accumulate = accumulate;   // backward: dqkv += (true) or dqkv = (false)
        public readonly float* Qkv = qkv;
        public readonly float* Seq = seq;   // out in forward, dout in backward
        public readonly float* Att = att;
        public readonly float* Dqkv = dqkv;
        public readonly int B = b, T = t, C = c, H = heads, D = c / heads;
    }

    private static void ForwardParallel(Job job, int items, int minPerThread)
    {
        var body = new ForwardBody(job);
        KernelThreads.For(items, minPerThread, ref body);
    }

    private static void BackwardParallel(Job job, int items, int minPerThread)
    {
        var body = new BackwardBody(job);
        KernelThreads.For(items, minPerThread, ref body);
    }

    private readonly struct ForwardBody(Job job) : IRangeBody
    {
        private readonly Job _job = job;

        public void Run(int start, int end) => ForwardRange(_job, start, end);
    }

    private readonly struct BackwardBody(Job job) : IRangeBody
    {
        private readonly Job _job = job;

        public void Run(int start, int end) => BackwardRange(_job, start, end);
    }

    private static unsafe void ForwardRange(Job job, int start, int end)
    {
        int t = job.T, c = job.C, d = job.D, c3 = 3 * c;
        int dp = Pad16(d), tp = Pad16(t);
        float scale = 1f / MathF.Sqrt(d);
        int need = d * tp + t * dp + 4 * tp + 4 * dp;
        fixed (float* raw = Scratch(need + 16))
        {
            float* scratch = RowVectors.AlignTo64(raw); // rows are multiples of 16 floats: no load splits a cache line
            float* kt = scratch;               // Kᵀ [d, tp]
            float* vp = kt + d * tp;           // V [t, dp]
            float* rows = vp + t * dp;         // raw scores of up to 4 queries [4, tp]
            float* outs = rows + 4 * tp;       // up to 4 output rows [4, dp]
            new Span<float>(scratch, need).Clear();

            bool prefetch = PrefetchesItems(t, d);
            for (int item = start; item < end; item++)
            {
                bool ahead = prefetch && item + 1 < end;
                int bi = item / job.H, h = item % job.H;
                float* seqBase = job.Qkv + (long)bi * t * c3 + h * d;
                float* outBase = job.Seq + (long)bi * t * c + h * d;
                float* attBase = job.Att + ((long)bi * job.H + h) * t * t;
                TransposeHead(seqBase + c, c3, t, d, kt, tp);
                for (int t2 = 0; t2 < t; t2++)
                {
                    RowVectors.Copy(vp + t2 * dp, seqBase + (long)t2 * c3 + 2 * c, d);
                }

                // Four queries at a time share every load of Kᵀ and V (16 accumulators in registers).
                int ti = 0;
                for (; Vector512.IsHardwareAccelerated && ti + 4 <= t; ti += 4)
                {
                    if (ahead)
                    {
                        PrefetchRows(job, item + 1, ti, ti + 4, gradients: false);
                    }

                    RowsTimesColumns4(seqBase + (long)ti * c3, c3, d, kt, tp, (ti + 4 + 15) >> 4, rows, tp);
                    if (Avx512F.IsSupported)
                    {
                        SoftmaxRows4(rows, tp, ti + 1, scale, attBase + (long)ti * t, t);
                    }
                    else
                    {
                        for (int r = 0; r < 4; r++)
                        {
                            SoftmaxRow(rows + r * tp, ti + r + 1, scale, attBase + (long)(ti + r) * t, t);
                        }
                    }

                    // Keys 0..ti are visible to all four queries; query ti + r also sees ti + 1 .. ti + r.
                    WeightedRowSum4(attBase + (long)ti * t, t, 1, ti + 1, vp, dp, outs);
                    for (int r = 1; r < 4; r++)
                    {
                        for (int j = ti + 1; j <= ti + r; j++)
                        {
                            Axpy(attBase[(long)(ti + r) * t + j], vp + j * dp, outs + r * dp, dp);
                        }
                    }

                    for (int r = 0; r < 4; r++)
                    {
                        RowVectors.Copy(outBase + (long)(ti + r) * c, outs + r * dp, d);
                    }
                }

                if (ahead)
                {
                    PrefetchRows(job, item + 1, ti, t, gradients: false);
                }

                for (; ti < t; ti++)
                {
                    int n = ti + 1;
                    RowTimesColumns(seqBase + (long)ti * c3, d, kt, tp, (n + 15) >> 4, rows);
                    SoftmaxRow(rows, n, scale, attBase + (long)ti * t, t);
                    WeightedRowSum(attBase + (long)ti * t, 1, n, vp, dp, outs);
                    RowVectors.Copy(outBase + (long)ti * c, outs, d);
                }
            }
        }
    }

    // att[0..n) = softmax(scale · scores[0..n)), att[n..t) = 0; scores is overwritten. scores holds Pad16(n) floats.
    internal static unsafe void SoftmaxRow(float* scores, int n, float scale, float* att, int t)
    {
        if (Avx512F.IsSupported)
        {
            SoftmaxRow512(scores, n, scale, att, t);
            return;
        }

        var s = new Span<float>(scores, n);
        TensorPrimitives.Multiply(s, scale, s);
        TensorPrimitives.Subtract(s, TensorPrimitives.Max<float>(s), s);
        TensorPrimitives.Exp<float>(s, s);
        float sum = TensorPrimitives.Sum<float>(s);
        TensorPrimitives.Multiply(s, sum == 0f ? 0f : 1f / sum, new Span<float>(att, n));
        new Span<float>(att + n, t - n).Clear();
    }

    // ds[0..n) = att ⊙ (datt − att·datt) · scale; datt is overwritten. datt and ds hold Pad16(n) floats, att n.
    private static unsafe void SoftmaxBackwardRow(float* datt, float* att, int n, float scale, float* ds)
    {
        if (Avx512F.IsSupported)
        {
            SoftmaxBackwardRow512(datt, att, n, scale, ds);
            return;
        }

        var g = new Span<float>(datt, n);
        var a = new ReadOnlySpan<float>(att, n);
        var o = new Span<float>(ds, n);
        TensorPrimitives.Subtract(g, TensorPrimitives.Dot(a, g), g);
        TensorPrimitives.Multiply(g, a, o);
        TensorPrimitives.Multiply(o, scale, o);
    }

    // The rows are short (n ≤ T, often ≤ 64): one pass per step over whole vectors, the ragged end under a lane
    // mask (masked loads do not touch memory past n), instead of five library calls whose fixed cost dominates.
    private static unsafe void SoftmaxRow512(float* scores, int n, float scale, float* att, int t)
    {
        int full = n & ~15, rem = n - full;
        Vector512<float> tail = RowVectors.LaneMask(rem);
        Vector512<float> ninf = Vector512.Create(float.NegativeInfinity);
        Vector512<float> vmax = ninf;
        for (int i = 0; i < full; i += 16)
        {
            vmax = Vector512.Max(vmax, Vector512.Load(scores + i));
        }

        if (rem > 0)
        {
            vmax = Vector512.Max(vmax, Vector512.ConditionalSelect(tail, Vector512.Load(scores + full), ninf));
        }

        // scale > 0, so max(scale·s) = scale·max(s); NaN anywhere makes the row NaN through the exponentials.
        Vector512<float> shift = Vector512.Create(-scale * RowVectors.MaxAcross(vmax));
        Vector512<float> vscale = Vector512.Create(scale);
        Vector512<float> vsum = Vector512<float>.Zero;
        for (int i = 0; i < full; i += 16)
        {
            Vector512<float> e = Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(scores + i), vscale, shift));
            e.Store(att + i);
            vsum += e;
        }

        Vector512<float> last = Vector512<float>.Zero;
        if (rem > 0)
        {
            last = Vector512.ConditionalSelect(tail, Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(scores + full), vscale, shift)), Vector512<float>.Zero);
            vsum += last;
        }

        float sum = Vector512.Sum(vsum);
        Vector512<float> inv = Vector512.Create(sum == 0f ? 0f : 1f / sum);
        for (int i = 0; i < full; i += 16)
        {
            (Vector512.Load(att + i) * inv).Store(att + i);
        }

        if (rem > 0)
        {
            Avx512F.MaskStore(att + full, tail, last * inv);
        }

        new Span<float>(att + n, t - n).Clear();
    }

    // One head's keys (or values) transposed: dst[i·tp + j] = src[j·stride + i] for i < d, j < t. With AVX-512 and d a
    // multiple of 16, in 16 × 16 register blocks; the last block's rows past t come out as zeros, inside tp's padding.
    private static unsafe void TransposeHead(float* src, int stride, int t, int d, float* dst, int tp)
    {
        if (Avx512F.IsSupported && d % 16 == 0)
        {
            for (int j0 = 0; j0 < t; j0 += 16)
            {
                for (int i0 = 0; i0 < d; i0 += 16)
                {
                    Gemm.Transpose16(src + ((long)j0 * stride) + i0, stride, Math.Min(16, t - j0), dst + ((long)i0 * tp) + j0, tp);
                }
            }

            return;
        }

        for (int j = 0; j < t; j++)
        {
            for (int i = 0; i < d; i++)
            {
                dst[(i * tp) + j] = src[((long)j * stride) + i];
            }
        }
    }

    [ThreadStatic]
    private static float[]? t_scratch;

    // This thread's scratch, at least count floats (grown when a larger shape comes). Chunks that run on one thread run
    // one after another, never nested, so they can share it; each pass clears what it reads before use.
    private static float[] Scratch(int count) =>
        t_scratch is { } buffer && buffer.Length >= count ? buffer : (t_scratch = new float[count]);

    // dst[0 .. n) += src (accumulate) or = src.
    private static unsafe void Put(bool accumulate, float* dst, float* src, int n)
    {
        if (accumulate)
        {
            RowVectors.Add(dst, src, n);
        }
        else
        {
            RowVectors.Copy(dst, src, n);
        }
    }

    // The rows of four consecutive queries (row r: n0 + r scores at scores + r·stride, its attention row at att + r·t):
    // per row exactly SoftmaxRow512's arithmetic (the same maxima, the exponentials summed in the same order, one
    // reciprocal), so the same results; but the four rows go step by step together, so their latency chains
    // (max → reduce → exp → sum → reduce → reciprocal) overlap instead of running one after another.
    internal static unsafe void SoftmaxRows4(float* scores, int stride, int n0, float scale, float* att, int t)
    {
        float* s0 = scores, s1 = s0 + stride, s2 = s1 + stride, s3 = s2 + stride;
        float* a0 = att, a1 = a0 + t, a2 = a1 + t, a3 = a2 + t;
        int n3 = n0 + 3;
        Vector512<float> ninf = Vector512.Create(float.NegativeInfinity);
        Vector512<float> m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
        for (int i = 0; i < n3; i += 16)
        {
            m0 = Vector512.Max(m0, Vector512.ConditionalSelect(RowVectors.LaneMask(n0 - i), Vector512.Load(s0 + i), ninf));
            m1 = Vector512.Max(m1, Vector512.ConditionalSelect(RowVectors.LaneMask(n0 + 1 - i), Vector512.Load(s1 + i), ninf));
            m2 = Vector512.Max(m2, Vector512.ConditionalSelect(RowVectors.LaneMask(n0 + 2 - i), Vector512.Load(s2 + i), ninf));
            m3 = Vector512.Max(m3, Vector512.ConditionalSelect(RowVectors.LaneMask(n3 - i), Vector512.Load(s3 + i), ninf));
        }

        Vector512<float> vscale = Vector512.Create(scale);
        Vector512<float> h0 = Vector512.Create(-scale * RowVectors.MaxAcross(m0)), h1 = Vector512.Create(-scale * RowVectors.MaxAcross(m1));
        Vector512<float> h2 = Vector512.Create(-scale * RowVectors.MaxAcross(m2)), h3 = Vector512.Create(-scale * RowVectors.MaxAcross(m3));
        Vector512<float> z = Vector512<float>.Zero, u0 = z, u1 = z, u2 = z, u3 = z;
        for (int i = 0; i < n3; i += 16)
        {
            Vector512<float> k0 = RowVectors.LaneMask(n0 - i), k1 = RowVectors.LaneMask(n0 + 1 - i);
            Vector512<float> k2 = RowVectors.LaneMask(n0 + 2 - i), k3 = RowVectors.LaneMask(n3 - i);
            Vector512<float> e0 = Vector512.ConditionalSelect(k0, Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(s0 + i), vscale, h0)), z);
            Vector512<float> e1 = Vector512.ConditionalSelect(k1, Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(s1 + i), vscale, h1)), z);
            Vector512<float> e2 = Vector512.ConditionalSelect(k2, Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(s2 + i), vscale, h2)), z);
            Vector512<float> e3 = Vector512.ConditionalSelect(k3, Softmax.ExpNonPositive(Vector512.FusedMultiplyAdd(Vector512.Load(s3 + i), vscale, h3)), z);
            Avx512F.MaskStore(a0 + i, k0, e0);
            Avx512F.MaskStore(a1 + i, k1, e1);
            Avx512F.MaskStore(a2 + i, k2, e2);
            Avx512F.MaskStore(a3 + i, k3, e3);
            u0 += e0;
            u1 += e1;
            u2 += e2;
            u3 += e3;
        }

        float sum0 = RowVectors.SumAcross(u0).ToScalar(), sum1 = RowVectors.SumAcross(u1).ToScalar();
        float sum2 = RowVectors.SumAcross(u2).ToScalar(), sum3 = RowVectors.SumAcross(u3).ToScalar();
        Vector512<float> r0 = Vector512.Create(sum0 == 0f ? 0f : 1f / sum0), r1 = Vector512.Create(sum1 == 0f ? 0f : 1f / sum1);
        Vector512<float> r2 = Vector512.Create(sum2 == 0f ? 0f : 1f / sum2), r3 = Vector512.Create(sum3 == 0f ? 0f : 1f / sum3);

        // Normalize the first n scores of each row and zero the rest of it, up to t.
        for (int i = 0; i < t; i += 16)
        {
            Vector512<float> w = RowVectors.LaneMask(t - i);
            Vector512<float> k0 = RowVectors.LaneMask(n0 - i), k1 = RowVectors.LaneMask(n0 + 1 - i);
            Vector512<float> k2 = RowVectors.LaneMask(n0 + 2 - i), k3 = RowVectors.LaneMask(n3 - i);
            Avx512F.MaskStore(a0 + i, w, Vector512.ConditionalSelect(k0, Avx512F.MaskLoad(a0 + i, k0, z) * r0, z));
            Avx512F.MaskStore(a1 + i, w, Vector512.ConditionalSelect(k1, Avx512F.MaskLoad(a1 + i, k1, z) * r1, z));
            Avx512F.MaskStore(a2 + i, w, Vector512.ConditionalSelect(k2, Avx512F.MaskLoad(a2 + i, k2, z) * r2, z));
            Avx512F.MaskStore(a3 + i, w, Vector512.ConditionalSelect(k3, Avx512F.MaskLoad(a3 + i, k3, z) * r3, z));
        }
    }

    private static unsafe void SoftmaxBackwardRow512(float* datt, float* att, int n, float scale, float* ds)
    {
        int full = n & ~15, rem = n - full;
        Vector512<float> tail = RowVectors.LaneMask(rem);
        Vector512<float> vdot = Vector512<float>.Zero;
        for (int i = 0; i < full; i += 16)
        {
            vdot = Vector512.FusedMultiplyAdd(Vector512.Load(att + i), Vector512.Load(datt + i), vdot);
        }

        Vector512<float> attLast = Vector512<float>.Zero;
        if (rem > 0)
        {
            attLast = Avx512F.MaskLoad(att + full, tail, Vector512<float>.Zero);
            vdot = Vector512.FusedMultiplyAdd(attLast, Vector512.ConditionalSelect(tail, Vector512.Load(datt + full), Vector512<float>.Zero), vdot);
        }

        Vector512<float> dot = RowVectors.SumAcross(vdot);
        Vector512<float> vscale = Vector512.Create(scale);
        for (int i = 0; i < full; i += 16)
        {
            ((Vector512.Load(datt + i) - dot) * Vector512.Load(att + i) * vscale).Store(ds + i);
        }

        if (rem > 0)
        {
            Avx512F.MaskStore(ds + full, tail, (Vector512.Load(datt + full) - dot) * attLast * vscale);
        }
    }

    private static unsafe void BackwardRange(Job job, int start, int end)
    {
        int t = job.T, c = job.C, d = job.D, c3 = 3 * c;
        int dp = Pad16(d), tp = Pad16(t);
        float scale = 1f / MathF.Sqrt(d);
        long need = 3L * t * dp + (long)d * tp + (long)t * tp + 4L * tp + 4L * dp;
        fixed (float* raw = Scratch(checked((int)need + 16)))
        {
            float* scratch = RowVectors.AlignTo64(raw); // rows are multiples of 16 floats: no load splits a cache line
            float* qp = scratch;               // Q [t, dp]
            float* kp = qp + t * dp;           // K [t, dp]
            float* dop = kp + t * dp;          // dout [t, dp]
            float* vt = dop + t * dp;          // Vᵀ [d, tp]
            float* ds = vt + d * tp;           // ds [t, tp], lower triangle used
            float* rows = ds + (long)t * tp;   // datt of up to 4 queries [4, tp]
            float* grads = rows + 4 * tp;      // up to 4 gradient rows [4, dp]
            new Span<float>(scratch, (int)need).Clear();

            bool prefetch = PrefetchesItems(t, d);
            for (int item = start; item < end; item++)
            {
                bool ahead = prefetch && item + 1 < end;
                int bi = item / job.H, h = item % job.H;
                float* seqBase = job.Qkv + (long)bi * t * c3 + h * d;
                float* gradBase = job.Dqkv + (long)bi * t * c3 + h * d;
                float* doutBase = job.Seq + (long)bi * t * c + h * d;
                float* attBase = job.Att + ((long)bi * job.H + h) * t * t;
                for (int t2 = 0; t2 < t; t2++)
                {
                    float* q = seqBase + (long)t2 * c3;
                    RowVectors.Copy(qp + t2 * dp, q, d);
                    RowVectors.Copy(kp + t2 * dp, q + c, d);
                    RowVectors.Copy(dop + t2 * dp, doutBase + (long)t2 * c, d);
                }

                TransposeHead(seqBase + 2 * c, c3, t, d, vt, tp);

                // Rows, four queries at a time: datt = dout_t·Vᵀ, ds through the softmax, dq_t = ds_t·K.
                int ti = 0;
                for (; Vector512.IsHardwareAccelerated && ti + 4 <= t; ti += 4)
                {
                    if (ahead)
                    {
                        PrefetchRows(job, item + 1, ti, ti + 4, gradients: true);
                    }

                    RowsTimesColumns4(doutBase + (long)ti * c, c, d, vt, tp, (ti + 4 + 15) >> 4, rows, tp);
                    for (int r = 0; r < 4; r++)
                    {
                        SoftmaxBackwardRow(rows + r * tp, attBase + (long)(ti + r) * t, ti + r + 1, scale, ds + (long)(ti + r) * tp);
                    }

                    WeightedRowSum4(ds + (long)ti * tp, tp, 1, ti + 1, kp, dp, grads);
                    for (int r = 1; r < 4; r++)
                    {
                        for (int j = ti + 1; j <= ti + r; j++)
                        {
                            Axpy(ds[(long)(ti + r) * tp + j], kp + j * dp, grads + r * dp, dp);
                        }
                    }

                    for (int r = 0; r < 4; r++)
                    {
                        Put(job.Accumulate, gradBase + (long)(ti + r) * c3, grads + r * dp, d);
                    }
                }

                for (; ti < t; ti++)
                {
                    int n = ti + 1;
                    RowTimesColumns(doutBase + (long)ti * c, d, vt, tp, (n + 15) >> 4, rows);
                    SoftmaxBackwardRow(rows, attBase + (long)ti * t, n, scale, ds + (long)ti * tp);
                    WeightedRowSum(ds + (long)ti * tp, 1, n, kp, dp, grads);
                    Put(job.Accumulate, gradBase + (long)ti * c3, grads, d);
                }

                if (ahead)
                {
                    PrefetchRows(job, item + 1, ti, t, gradients: true);
                }

                // Columns, four keys at a time: dv_t2 = Σ_{t ≥ t2} att[t,t2]·dout_t, dk_t2 = Σ_{t ≥ t2} ds[t,t2]·q_t.
                int k0 = 0;
                for (; Vector512.IsHardwareAccelerated && k0 + 4 <= t; k0 += 4)
                {
                    // Queries from k0 + 3 on see all four keys; queries k0 .. k0 + 2 see only the first few.
                    int j0 = k0 + 3;
                    ColumnBlock(attBase + (long)j0 * t + k0, t, t - j0, dop, j0, dp, attBase, t, k0, grads);
                    for (int k = 0; k < 4; k++)
                    {
                        Put(job.Accumulate, gradBase + (long)(k0 + k) * c3 + 2 * c, grads + k * dp, d);
                    }

                    ColumnBlock(ds + (long)j0 * tp + k0, tp, t - j0, qp, j0, dp, ds, tp, k0, grads);
                    for (int k = 0; k < 4; k++)
                    {
                        Put(job.Accumulate, gradBase + (long)(k0 + k) * c3 + c, grads + k * dp, d);
                    }
                }

                for (; k0 < t; k0++)
                {
                    int m = t - k0;
                    WeightedRowSum(attBase + (long)k0 * t + k0, t, m, dop + k0 * dp, dp, grads);
                    Put(job.Accumulate, gradBase + (long)k0 * c3 + 2 * c, grads, d);
                    WeightedRowSum(ds + (long)k0 * tp + k0, tp, m, qp + k0 * dp, dp, grads);
                    Put(job.Accumulate, gradBase + (long)k0 * c3 + c, grads, d);
                }
            }
        }
    }

    // In a training step each layer's attention finds most of its operands out of cache: the backward pass reads q, k,
    // v and att that the forward pass wrote long before, and both passes write rows (att, the output, dqkv) last touched
    // a step ago. An item (one sequence, one head) reaches them as T rows of a few cache lines, 1.5 KB apart at C = 128,
    // which the hardware prefetchers do not follow. So while an item computes its block of four queries at rows
    // r .. r + 3, it requests the same rows of the next item, spread over the item rather than in one burst (a burst of
    // ~500 lines at the start of each backward item gained half as much). Only for small items (T ≤ 64, d ≤ 64), whose
    // lines fit in L1 beside the scratch. Measured at B = 8, T = 32, C = 128, H = 4, 6 layers (this build and the one
    // before in one process, alternating): a training step 2–4 % faster, ~0.7 % of it from the forward. The price is
    // paid where everything is already in cache, as when the benchmark calls attention in a loop: there forward +
    // backward got 7–13 % slower (12–15 % when every line of every run was requested), far less than the step gains
    // back at the same shape. Results are unchanged: a prefetch only moves data.
    private static bool PrefetchesItems(int t, int d) => Sse.IsSupported && t <= 64 && d <= 64;

    // Rows r0 .. r1 of item's q, k, v, att and of job.Seq (the output, or dout), and with gradients of dqkv.
    private static unsafe void PrefetchRows(Job job, int item, int r0, int r1, bool gradients)
    {
        int bi = item / job.H, h = item % job.H;
        int t = job.T, c = job.C, d = job.D;
        float* qkv = job.Qkv + ((long)bi * t * 3 * c) + (h * d);
        float* dqkv = job.Dqkv + ((long)bi * t * 3 * c) + (h * d);
        float* seq = job.Seq + ((long)bi * t * c) + (h * d);
        float* att = job.Att + (((long)bi * job.H + h) * t * t);
        for (int r = r0; r < r1; r++)
        {
            // Each d-float run at every other line from its first float, and at its last float: as fast in a step as
            // every line (measured), with a third fewer prefetches for the in-cache case to carry.
            for (int i = 0; ; i += 32)
            {
                int at = Math.Min(i, d - 1);
                float* q = qkv + ((long)r * 3 * c) + at;
                Sse.Prefetch0(q);
                Sse.Prefetch0(q + c);
                Sse.Prefetch0(q + (2 * c));
                Sse.Prefetch0(seq + ((long)r * c) + at);
                if (gradients)
                {
                    float* g = dqkv + ((long)r * 3 * c) + at;
                    Sse.Prefetch0(g);
                    Sse.Prefetch0(g + c);
                    Sse.Prefetch0(g + (2 * c));
                }

                if (at == d - 1)
                {
                    break;
                }
            }
        }

        if (r1 > r0)
        {
            RowPrefetch.Row(att + ((long)r0 * t), (r1 - r0) * t);   // rows r0 .. r1 of att are one contiguous run
        }
    }

    // y_k = Σ_{j ≥ k0 + k} w[j, k0 + k] · r_j for the four columns k0 .. k0 + 3 of a lower-triangular w (row stride ws):
    // the full rows from j0 = k0 + 3 through the blocked kernel, the triangle corner above them one AXPY at a time
    // (multiplying by the zeros above the diagonal instead would turn an ∞ in r into NaN).
    private static unsafe void ColumnBlock(float* wFrom, int ws, int n, float* r, int j0, int dp, float* w, int wStride, int k0, float* y)
    {
        WeightedRowSum4(wFrom, 1, ws, n, r + (long)j0 * dp, dp, y);
        for (int k = 0; k < 3; k++)
        {
            for (int j = k0 + k; j < j0; j++)
            {
                Axpy(w[(long)j * wStride + k0 + k], r + (long)j * dp, y + k * dp, dp);
            }
        }
    }

    /// <summary>
    /// y[0 .. 16·nvec) = Σ_i a[i] · m[i, 0 .. 16·nvec) with m's rows <paramref name="stride"/> apart: one row of a
    /// small matrix product, as AXPYs across 16 columns per vector with up to 4 vectors in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowTimesColumns(float* a, int d, float* m, int stride, int nvec, float* y)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            RowTimesColumns256(a, d, m, stride, nvec, y);
            return;
        }

        int v = 0;
        for (; v + 4 <= nvec; v += 4)
        {
            float* col = m + v * 16;
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int i = 0; i < d; i++)
            {
                var s = Vector512.Create(a[i]);
                float* r = col + (long)i * stride;
                acc0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(r), acc0);
                acc1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(r + 16), acc1);
                acc2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(r + 32), acc2);
                acc3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(r + 48), acc3);
            }

            float* o = y + v * 16;
            acc0.Store(o);
            acc1.Store(o + 16);
            acc2.Store(o + 32);
            acc3.Store(o + 48);
        }

        for (; v < nvec; v++)
        {
            // Two chains over i halve the FMA latency that a lone accumulator would wait on.
            float* col = m + v * 16;
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0;
            int i = 0;
            for (; i + 2 <= d; i += 2)
            {
                float* r = col + (long)i * stride;
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[i]), Vector512.Load(r), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[i + 1]), Vector512.Load(r + stride), acc1);
            }

            if (i < d)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[i]), Vector512.Load(col + (long)i * stride), acc0);
            }

            (acc0 + acc1).Store(y + v * 16);
        }
    }

    /// <summary>
    /// y[0 .. dp) = Σ_{j &lt; n} w[j·ws] · r[j, 0 .. dp) with r's rows dp (a multiple of 16) apart: a weighted sum
    /// of rows, the accumulators held in registers across all n rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WeightedRowSum(float* w, int ws, int n, float* r, int dp, float* y)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            WeightedRowSum256(w, ws, n, r, dp, y);
            return;
        }

        int c0 = 0;
        for (; c0 + 64 <= dp; c0 += 64)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            float* rj = r + c0;
            float* wj = w;
            for (int j = 0; j < n; j++, rj += dp, wj += ws)
            {
                var s = Vector512.Create(*wj);
                acc0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rj), acc0);
                acc1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rj + 16), acc1);
                acc2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rj + 32), acc2);
                acc3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rj + 48), acc3);
            }

            acc0.Store(y + c0);
            acc1.Store(y + c0 + 16);
            acc2.Store(y + c0 + 32);
            acc3.Store(y + c0 + 48);
        }

        for (; c0 < dp; c0 += 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0;
            float* rj = r + c0;
            int j = 0;
            for (; j + 2 <= n; j += 2, rj += 2 * dp)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(w[(long)j * ws]), Vector512.Load(rj), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Create(w[(long)(j + 1) * ws]), Vector512.Load(rj + dp), acc1);
            }

            if (j < n)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(w[(long)j * ws]), Vector512.Load(rj), acc0);
            }

            (acc0 + acc1).Store(y + c0);
        }
    }

    // AVX2 machines (no Vector512): the single-row kernels with 16 ymm registers, 32 columns (4 accumulators) per pass.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowTimesColumns256(float* a, int d, float* m, int stride, int nvec, float* y)
    {
        int cols = nvec * 16, v = 0;
        for (; v + 32 <= cols; v += 32)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int i = 0; i < d; i++)
            {
                var s = Vector256.Create(a[i]);
                float* r = m + (long)i * stride + v;
                acc0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r), acc0);
                acc1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r + 8), acc1);
                acc2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r + 16), acc2);
                acc3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r + 24), acc3);
            }

            acc0.Store(y + v);
            acc1.Store(y + v + 8);
            acc2.Store(y + v + 16);
            acc3.Store(y + v + 24);
        }

        for (; v < cols; v += 16)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
            for (int i = 0; i < d; i++)
            {
                var s = Vector256.Create(a[i]);
                float* r = m + (long)i * stride + v;
                acc0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r), acc0);
                acc1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(r + 8), acc1);
            }

            acc0.Store(y + v);
            acc1.Store(y + v + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WeightedRowSum256(float* w, int ws, int n, float* r, int dp, float* y)
    {
        int c0 = 0;
        for (; c0 + 32 <= dp; c0 += 32)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            float* rj = r + c0;
            float* wj = w;
            for (int j = 0; j < n; j++, rj += dp, wj += ws)
            {
                var s = Vector256.Create(*wj);
                acc0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj), acc0);
                acc1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj + 8), acc1);
                acc2 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj + 16), acc2);
                acc3 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj + 24), acc3);
            }

            acc0.Store(y + c0);
            acc1.Store(y + c0 + 8);
            acc2.Store(y + c0 + 16);
            acc3.Store(y + c0 + 24);
        }

        for (; c0 < dp; c0 += 16)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
            float* rj = r + c0;
            float* wj = w;
            for (int j = 0; j < n; j++, rj += dp, wj += ws)
            {
                var s = Vector256.Create(*wj);
                acc0 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj), acc0);
                acc1 = Vector256.FusedMultiplyAdd(s, Vector256.Load(rj + 8), acc1);
            }

            acc0.Store(y + c0);
            acc1.Store(y + c0 + 8);
        }
    }

    /// <summary>
    /// Four rows at once of <see cref="RowTimesColumns"/>: y_k[0 .. 16·nvec) = Σ_i a_k[i] · m[i, ·] with
    /// a_k = a + k·aStride and y_k = y + k·yStride, so each load of m feeds four multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowsTimesColumns4(float* a, long aStride, int d, float* m, int stride, int nvec, float* y, int yStride)
    {
        float* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        int v = 0;
        for (; v + 4 <= nvec; v += 4)
        {
            float* col = m + v * 16;
            Vector512<float> c00 = Vector512<float>.Zero, c01 = c00, c02 = c00, c03 = c00;
            Vector512<float> c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            Vector512<float> c20 = c00, c21 = c00, c22 = c00, c23 = c00;
            Vector512<float> c30 = c00, c31 = c00, c32 = c00, c33 = c00;
            for (int i = 0; i < d; i++)
            {
                float* r = col + (long)i * stride;
                var m0 = Vector512.Load(r);
                var m1 = Vector512.Load(r + 16);
                var m2 = Vector512.Load(r + 32);
                var m3 = Vector512.Load(r + 48);
                var s = Vector512.Create(a[i]);
                c00 = Vector512.FusedMultiplyAdd(s, m0, c00);
                c01 = Vector512.FusedMultiplyAdd(s, m1, c01);
                c02 = Vector512.FusedMultiplyAdd(s, m2, c02);
                c03 = Vector512.FusedMultiplyAdd(s, m3, c03);
                s = Vector512.Create(a1[i]);
                c10 = Vector512.FusedMultiplyAdd(s, m0, c10);
                c11 = Vector512.FusedMultiplyAdd(s, m1, c11);
                c12 = Vector512.FusedMultiplyAdd(s, m2, c12);
                c13 = Vector512.FusedMultiplyAdd(s, m3, c13);
                s = Vector512.Create(a2[i]);
                c20 = Vector512.FusedMultiplyAdd(s, m0, c20);
                c21 = Vector512.FusedMultiplyAdd(s, m1, c21);
                c22 = Vector512.FusedMultiplyAdd(s, m2, c22);
                c23 = Vector512.FusedMultiplyAdd(s, m3, c23);
                s = Vector512.Create(a3[i]);
                c30 = Vector512.FusedMultiplyAdd(s, m0, c30);
                c31 = Vector512.FusedMultiplyAdd(s, m1, c31);
                c32 = Vector512.FusedMultiplyAdd(s, m2, c32);
                c33 = Vector512.FusedMultiplyAdd(s, m3, c33);
            }

            float* o = y + v * 16;
            c00.Store(o); c01.Store(o + 16); c02.Store(o + 32); c03.Store(o + 48);
            o += yStride;
            c10.Store(o); c11.Store(o + 16); c12.Store(o + 32); c13.Store(o + 48);
            o += yStride;
            c20.Store(o); c21.Store(o + 16); c22.Store(o + 32); c23.Store(o + 48);
            o += yStride;
            c30.Store(o); c31.Store(o + 16); c32.Store(o + 32); c33.Store(o + 48);
        }

        // Two vectors (a 32-wide row, T = 32's scores): eight chains, so the FMAs are not held up by their latency.
        for (; v + 2 <= nvec; v += 2)
        {
            FourRowsTwoVectors(a, aStride, 1, d, m + v * 16, stride, y + v * 16, yStride);
        }

        for (; v < nvec; v++)
        {
            float* col = m + v * 16;
            Vector512<float> c0 = Vector512<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (int i = 0; i < d; i++)
            {
                var mv = Vector512.Load(col + (long)i * stride);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[i]), mv, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[i]), mv, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[i]), mv, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[i]), mv, c3);
            }

            float* o = y + v * 16;
            c0.Store(o);
            c1.Store(o + yStride);
            c2.Store(o + 2 * yStride);
            c3.Store(o + 3 * yStride);
        }
    }

    /// <summary>
    /// Four weighted row sums at once: y_k[0 .. dp) = Σ_{j &lt; n} w[k·wk + j·wj] · r[j, ·] for k = 0..3, y_k = y + k·dp,
    /// so each row of r loaded feeds four multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WeightedRowSum4(float* w, long wk, long wj, int n, float* r, int dp, float* y)
    {
        float* w1 = w + wk, w2 = w1 + wk, w3 = w2 + wk;
        int c0 = 0;
        for (; c0 + 64 <= dp; c0 += 64)
        {
            Vector512<float> c00 = Vector512<float>.Zero, c01 = c00, c02 = c00, c03 = c00;
            Vector512<float> c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            Vector512<float> c20 = c00, c21 = c00, c22 = c00, c23 = c00;
            Vector512<float> c30 = c00, c31 = c00, c32 = c00, c33 = c00;
            float* rj = r + c0;
            long off = 0;
            for (int j = 0; j < n; j++, rj += dp, off += wj)
            {
                var r0 = Vector512.Load(rj);
                var r1 = Vector512.Load(rj + 16);
                var r2 = Vector512.Load(rj + 32);
                var r3 = Vector512.Load(rj + 48);
                var s = Vector512.Create(w[off]);
                c00 = Vector512.FusedMultiplyAdd(s, r0, c00);
                c01 = Vector512.FusedMultiplyAdd(s, r1, c01);
                c02 = Vector512.FusedMultiplyAdd(s, r2, c02);
                c03 = Vector512.FusedMultiplyAdd(s, r3, c03);
                s = Vector512.Create(w1[off]);
                c10 = Vector512.FusedMultiplyAdd(s, r0, c10);
                c11 = Vector512.FusedMultiplyAdd(s, r1, c11);
                c12 = Vector512.FusedMultiplyAdd(s, r2, c12);
                c13 = Vector512.FusedMultiplyAdd(s, r3, c13);
                s = Vector512.Create(w2[off]);
                c20 = Vector512.FusedMultiplyAdd(s, r0, c20);
                c21 = Vector512.FusedMultiplyAdd(s, r1, c21);
                c22 = Vector512.FusedMultiplyAdd(s, r2, c22);
                c23 = Vector512.FusedMultiplyAdd(s, r3, c23);
                s = Vector512.Create(w3[off]);
                c30 = Vector512.FusedMultiplyAdd(s, r0, c30);
                c31 = Vector512.FusedMultiplyAdd(s, r1, c31);
                c32 = Vector512.FusedMultiplyAdd(s, r2, c32);
                c33 = Vector512.FusedMultiplyAdd(s, r3, c33);
            }

            float* o = y + c0;
            c00.Store(o); c01.Store(o + 16); c02.Store(o + 32); c03.Store(o + 48);
            o += dp;
            c10.Store(o); c11.Store(o + 16); c12.Store(o + 32); c13.Store(o + 48);
            o += dp;
            c20.Store(o); c21.Store(o + 16); c22.Store(o + 32); c23.Store(o + 48);
            o += dp;
            c30.Store(o); c31.Store(o + 16); c32.Store(o + 32); c33.Store(o + 48);
        }

        // 32 columns (a head of 32): eight chains, so the FMAs are not held up by their latency.
        for (; c0 + 32 <= dp; c0 += 32)
        {
            FourRowsTwoVectors(w, wk, wj, n, r + c0, dp, y + c0, dp);
        }

        for (; c0 < dp; c0 += 16)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            float* rj = r + c0;
            long off = 0;
            for (int j = 0; j < n; j++, rj += dp, off += wj)
            {
                var rv = Vector512.Load(rj);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(w[off]), rv, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(w1[off]), rv, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(w2[off]), rv, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(w3[off]), rv, a3);
            }

            a0.Store(y + c0);
            a1.Store(y + dp + c0);
            a2.Store(y + 2 * dp + c0);
            a3.Store(y + 3 * dp + c0);
        }
    }

    /// <summary>
    /// y_k[0 .. 32) = Σ_{j &lt; n} w[k·wk + j·wj] · r[j·rs .. j·rs + 32) for k = 0..3, y_k = y + k·ys: the two-vector
    /// block of <see cref="RowsTimesColumns4"/> and <see cref="WeightedRowSum4"/>, eight accumulator chains (each
    /// output summed over j in order, as the one-vector loops do).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void FourRowsTwoVectors(float* w, long wk, long wj, int n, float* r, long rs, float* y, long ys)
    {
        float* w1 = w + wk, w2 = w1 + wk, w3 = w2 + wk;
        Vector512<float> c00 = Vector512<float>.Zero, c01 = c00, c10 = c00, c11 = c00;
        Vector512<float> c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        long off = 0;
        for (int j = 0; j < n; j++, r += rs, off += wj)
        {
            var r0 = Vector512.Load(r);
            var r1 = Vector512.Load(r + 16);
            var s = Vector512.Create(w[off]);
            c00 = Vector512.FusedMultiplyAdd(s, r0, c00);
            c01 = Vector512.FusedMultiplyAdd(s, r1, c01);
            s = Vector512.Create(w1[off]);
            c10 = Vector512.FusedMultiplyAdd(s, r0, c10);
            c11 = Vector512.FusedMultiplyAdd(s, r1, c11);
            s = Vector512.Create(w2[off]);
            c20 = Vector512.FusedMultiplyAdd(s, r0, c20);
            c21 = Vector512.FusedMultiplyAdd(s, r1, c21);
            s = Vector512.Create(w3[off]);
            c30 = Vector512.FusedMultiplyAdd(s, r0, c30);
            c31 = Vector512.FusedMultiplyAdd(s, r1, c31);
        }

        c00.Store(y); c01.Store(y + 16);
        y += ys;
        c10.Store(y); c11.Store(y + 16);
        y += ys;
        c20.Store(y); c21.Store(y + 16);
        y += ys;
        c30.Store(y); c31.Store(y + 16);
    }

    // y[0 .. dp) += s · r[0 .. dp), dp a multiple of 16.
    private static unsafe void Axpy(float s, float* r, float* y, int dp)
    {
        var sv = Vector512.Create(s);
        for (int i = 0; i < dp; i += 16)
        {
            Vector512.FusedMultiplyAdd(sv, Vector512.Load(r + i), Vector512.Load(y + i)).Store(y + i);
        }
    }
}
