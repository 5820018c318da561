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
using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Causal multi-head self-attention in llm.c's layout: <c>qkv[B,T,3C] → out[B,T,C]</c>, caching the softmax
/// probabilities <c>att[B,H,T,T]</c> (zero above the diagonal), which is all the backward pass needs besides qkv.
/// </summary>
/// <remarks>
/// The fast path works one (batch, head) pair at a time, threads over the B·H pairs, and never touches the masked
/// upper triangle. It packs the head's keys transposed (<c>Kᵀ[d, T]</c>) so a query's scores are AXPYs across 16
/// keys at a time, and its values as rows padded to 16 floats so <c>att·V</c> keeps 4 Vector512 accumulators in
/// registers. Softmax rows go through <see cref="TensorPrimitives"/>. Without AVX-512 it runs the reference loops.
/// Scratch comes from <see cref="ArrayPool{T}.Shared"/>, so steady-state calls do not allocate (the backward pass
/// needs T·T floats of scratch per thread for ds, the size of one head's slice of the cache).
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
        if (!Vector512.IsHardwareAccelerated)
        {
            ForwardReference(qkv, output, att, b, t, c, heads);
            return;
        }

        fixed (float* pqkv = qkv, pout = output, patt = att)
        {
            var job = new Job(pqkv, pout, patt, null, b, t, c, heads);
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
    public static unsafe void Backward(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads)
    {
        ValidateBackward(dout, qkv, att, dqkv, b, t, c, heads);
        if (!Vector512.IsHardwareAccelerated)
        {
            BackwardReference(dout, qkv, att, dqkv, b, t, c, heads);
            return;
        }

        fixed (float* pdout = dout, pqkv = qkv, patt = att, pdqkv = dqkv)
        {
            var job = new Job(pqkv, pdout, patt, pdqkv, b, t, c, heads);
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
        Check.Length(qkv.Length, 3L * b * t * c, nameof(qkv), $"B·T·3C = {b}·{t}·3·{c}");
        Check.Destination(output.Length, (long)b * t * c, nameof(output), $"B·T·C = {b}·{t}·{c}");
        Check.Destination(att.Length, (long)b * heads * t * t, nameof(att), $"B·H·T·T = {b}·{heads}·{t}·{t}");
        Check.NoOverlap(qkv, nameof(qkv), output, nameof(output));
        Check.NoOverlap(qkv, nameof(qkv), att, nameof(att));
        Check.NoOverlap<float>(att, nameof(att), output, nameof(output));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, Span<float> dqkv, int b, int t, int c, int heads)
    {
        ValidateShape(b, t, c, heads);
        Check.Length(dout.Length, (long)b * t * c, nameof(dout), $"B·T·C = {b}·{t}·{c}");
        Check.Length(qkv.Length, 3L * b * t * c, nameof(qkv), $"B·T·3C = {b}·{t}·3·{c}");
        Check.Length(att.Length, (long)b * heads * t * t, nameof(att), $"B·H·T·T = {b}·{heads}·{t}·{t}");
        Check.Destination(dqkv.Length, 3L * b * t * c, nameof(dqkv), $"B·T·3C = {b}·{t}·3·{c}");
        Check.NoOverlap(dout, nameof(dout), dqkv, nameof(dqkv));
        Check.NoOverlap(qkv, nameof(qkv), dqkv, nameof(dqkv));
        Check.NoOverlap(att, nameof(att), dqkv, nameof(dqkv));
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

    // Pointers and shape of one call; a plain struct so the thread lambda captures no span.
    private readonly unsafe struct Job(float* qkv, float* seq, float* att, float* dqkv, int b, int t, int c, int heads)
    {
        public readonly float* Qkv = qkv;
        public readonly float* Seq = seq;   // out in forward, dout in backward
        public readonly float* Att = att;
        public readonly float* Dqkv = dqkv;
        public readonly int B = b, T = t, C = c, H = heads, D = c / heads;
    }

    private static void ForwardParallel(Job job, int items, int minPerThread) =>
        KernelThreads.For(items, minPerThread, (start, end) => ForwardRange(job, start, end));

    private static void BackwardParallel(Job job, int items, int minPerThread) =>
        KernelThreads.For(items, minPerThread, (start, end) => BackwardRange(job, start, end));

    private static unsafe void ForwardRange(Job job, int start, int end)
    {
        int t = job.T, c = job.C, d = job.D, c3 = 3 * c;
        int dp = Pad16(d), tp = Pad16(t);
        float scale = 1f / MathF.Sqrt(d);
        int need = d * tp + t * dp + tp + dp;
        float[] rented = ArrayPool<float>.Shared.Rent(need);
        try
        {
            fixed (float* scratch = rented)
            {
                float* kt = scratch;               // Kᵀ [d, tp]
                float* vp = kt + d * tp;           // V [t, dp]
                float* row = vp + t * dp;          // raw scores of one query [tp]
                float* tmp = row + tp;             // one output row [dp]
                new Span<float>(scratch, need).Clear();

                for (int item = start; item < end; item++)
                {
                    int bi = item / job.H, h = item % job.H;
                    float* seqBase = job.Qkv + (long)bi * t * c3 + h * d;
                    for (int t2 = 0; t2 < t; t2++)
                    {
                        float* k = seqBase + (long)t2 * c3 + c;
                        for (int i = 0; i < d; i++)
                        {
                            kt[i * tp + t2] = k[i];
                        }

                        new ReadOnlySpan<float>(k + c, d).CopyTo(new Span<float>(vp + t2 * dp, d));
                    }

                    float* attBase = job.Att + ((long)bi * job.H + h) * t * t;
                    for (int ti = 0; ti < t; ti++)
                    {
                        int n = ti + 1;
                        RowTimesColumns(seqBase + (long)ti * c3, d, kt, tp, (n + 15) >> 4, row);

                        var s = new Span<float>(row, n);
                        TensorPrimitives.Multiply(s, scale, s);
                        TensorPrimitives.Subtract(s, TensorPrimitives.Max<float>(s), s);
                        TensorPrimitives.Exp<float>(s, s);
                        float sum = TensorPrimitives.Sum<float>(s);
                        var attRow = new Span<float>(attBase + (long)ti * t, t);
                        TensorPrimitives.Multiply(s, sum == 0f ? 0f : 1f / sum, attRow[..n]);
                        attRow[n..].Clear();

                        WeightedRowSum(attBase + (long)ti * t, 1, n, vp, dp, tmp);
                        new ReadOnlySpan<float>(tmp, d).CopyTo(new Span<float>(job.Seq + ((long)bi * t + ti) * c + h * d, d));
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static unsafe void BackwardRange(Job job, int start, int end)
    {
        int t = job.T, c = job.C, d = job.D, c3 = 3 * c;
        int dp = Pad16(d), tp = Pad16(t);
        float scale = 1f / MathF.Sqrt(d);
        long need = 3L * t * dp + (long)d * tp + (long)t * tp + tp + dp;
        float[] rented = ArrayPool<float>.Shared.Rent(checked((int)need));
        try
        {
            fixed (float* scratch = rented)
            {
                float* qp = scratch;               // Q [t, dp]
                float* kp = qp + t * dp;           // K [t, dp]
                float* dop = kp + t * dp;          // dout [t, dp]
                float* vt = dop + t * dp;          // Vᵀ [d, tp]
                float* ds = vt + d * tp;           // ds [t, tp], lower triangle used
                float* row = ds + (long)t * tp;    // datt of one query [tp]
                float* tmp = row + tp;             // one gradient row [dp]
                new Span<float>(scratch, (int)need).Clear();

                for (int item = start; item < end; item++)
                {
                    int bi = item / job.H, h = item % job.H;
                    float* seqBase = job.Qkv + (long)bi * t * c3 + h * d;
                    float* gradBase = job.Dqkv + (long)bi * t * c3 + h * d;
                    float* doutBase = job.Seq + (long)bi * t * c + h * d;
                    float* attBase = job.Att + ((long)bi * job.H + h) * t * t;
                    for (int t2 = 0; t2 < t; t2++)
                    {
                        float* q = seqBase + (long)t2 * c3;
                        new ReadOnlySpan<float>(q, d).CopyTo(new Span<float>(qp + t2 * dp, d));
                        new ReadOnlySpan<float>(q + c, d).CopyTo(new Span<float>(kp + t2 * dp, d));
                        new ReadOnlySpan<float>(doutBase + (long)t2 * c, d).CopyTo(new Span<float>(dop + t2 * dp, d));
                        float* v = q + 2 * c;
                        for (int i = 0; i < d; i++)
                        {
                            vt[i * tp + t2] = v[i];
                        }
                    }

                    // Rows: datt = dout_t·Vᵀ, ds through the softmax, dq_t = ds_t·K.
                    for (int ti = 0; ti < t; ti++)
                    {
                        int n = ti + 1;
                        RowTimesColumns(doutBase + (long)ti * c, d, vt, tp, (n + 15) >> 4, row);
                        var dattRow = new Span<float>(row, n);
                        var attRow = new ReadOnlySpan<float>(attBase + (long)ti * t, n);
                        float dot = TensorPrimitives.Dot(attRow, dattRow);
                        var dsRow = new Span<float>(ds + (long)ti * tp, n);
                        TensorPrimitives.Subtract(dattRow, dot, dattRow);
                        TensorPrimitives.Multiply(dattRow, attRow, dsRow);
                        TensorPrimitives.Multiply(dsRow, scale, dsRow);

                        WeightedRowSum(ds + (long)ti * tp, 1, n, kp, dp, tmp);
                        AddInto(tmp, gradBase + (long)ti * c3, d);
                    }

                    // Columns: dv_t2 = Σ_{t ≥ t2} att[t,t2]·dout_t and dk_t2 = Σ_{t ≥ t2} ds[t,t2]·q_t.
                    for (int t2 = 0; t2 < t; t2++)
                    {
                        int m = t - t2;
                        WeightedRowSum(attBase + (long)t2 * t + t2, t, m, dop + t2 * dp, dp, tmp);
                        AddInto(tmp, gradBase + (long)t2 * c3 + 2 * c, d);
                        WeightedRowSum(ds + (long)t2 * tp + t2, tp, m, qp + t2 * dp, dp, tmp);
                        AddInto(tmp, gradBase + (long)t2 * c3 + c, d);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    private static unsafe void AddInto(float* src, float* dst, int d)
    {
        var target = new Span<float>(dst, d);
        TensorPrimitives.Add(target, new ReadOnlySpan<float>(src, d), target);
    }

    /// <summary>
    /// y[0 .. 16·nvec) = Σ_i a[i] · m[i, 0 .. 16·nvec) with m's rows <paramref name="stride"/> apart: one row of a
    /// small matrix product, as AXPYs across 16 columns per vector with up to 4 vectors in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowTimesColumns(float* a, int d, float* m, int stride, int nvec, float* y)
    {
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
}
