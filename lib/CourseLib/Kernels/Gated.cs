using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>
/// Gated linear units (Shazeer 2020), row-wise on h: [N, 2H] whose rows are [gate | value] (gate = h[:, :H],
/// value = h[:, H:]) → y: [N, H].
/// <code>
/// y      = act(gate) ⊙ value
/// dgate  += dy ⊙ value ⊙ act′(gate)        (into dh[:, :H])
/// dvalue += dy ⊙ act(gate)                 (into dh[:, H:])
/// </code>
/// act by <see cref="GateKind"/>: Glu σ, ReGlu ReLU, GeGlu exact-erf GELU, SwiGlu SiLU. Note the half order: PyTorch's
/// <c>F.glu(h)</c> gates with the <em>second</em> half (a ⊙ σ(b)); here the gate comes first, as in the GLU-variants
/// FFN <c>act(xW) ⊙ (xV)</c> with W and V stacked into one [2H, C] weight. NaN/∞ propagate as in the element-wise ops.
/// </summary>
public static class Gated
{
    /// <summary>y = act(gate) ⊙ value for every row.</summary>
    /// <param name="h">Input [N, 2H], rows [gate | value].</param>
    /// <param name="y">Output [N, H]; must not overlap h.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="hidden">H, the width of each half.</param>
    /// <param name="kind">The gate activation.</param>
    public static void Forward(ReadOnlySpan<float> h, Span<float> y, int n, int hidden, GateKind kind)
    {
        ValidateForward(h, y, n, hidden, kind);
        switch (kind)
        {
            case GateKind.Glu: Run<SigmoidOp>(h, y, default, default, n, hidden, backward: false); break;
            case GateKind.ReGlu: Run<ReluOp>(h, y, default, default, n, hidden, backward: false); break;
            case GateKind.GeGlu: Run<GeluErfOp>(h, y, default, default, n, hidden, backward: false); break;
            default: Run<SiluOp>(h, y, default, default, n, hidden, backward: false); break;
        }
    }

    /// <summary>Accumulates the gradients of both halves into <paramref name="dh"/>.</summary>
    /// <param name="dy">Gradient with respect to y, [N, H].</param>
    /// <param name="h">The forward input [N, 2H].</param>
    /// <param name="dh">Accumulated into, [N, 2H]; must not overlap dy or h.</param>
    /// <param name="n">Rows N.</param>
    /// <param name="hidden">H.</param>
    /// <param name="kind">The gate activation used forward.</param>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> h, Span<float> dh, int n, int hidden, GateKind kind)
    {
        ValidateBackward(dy, h, dh, n, hidden, kind);
        switch (kind)
        {
            case GateKind.Glu: Run<SigmoidOp>(h, default, dy, dh, n, hidden, backward: true); break;
            case GateKind.ReGlu: Run<ReluOp>(h, default, dy, dh, n, hidden, backward: true); break;
            case GateKind.GeGlu: Run<GeluErfOp>(h, default, dy, dh, n, hidden, backward: true); break;
            default: Run<SiluOp>(h, default, dy, dh, n, hidden, backward: true); break;
        }
    }

    /// <summary>The plain loops, in double.</summary>
    public static void ForwardReference(ReadOnlySpan<float> h, Span<float> y, int n, int hidden, GateKind kind)
    {
        ValidateForward(h, y, n, hidden, kind);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < hidden; j++)
            {
                double gate = h[r * 2 * hidden + j], value = h[r * 2 * hidden + hidden + j];
                y[r * hidden + j] = (float)(Activation(gate, kind) * value);
            }
        }
    }

    /// <summary>The plain loops, in double.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> h, Span<float> dh, int n, int hidden, GateKind kind)
    {
        ValidateBackward(dy, h, dh, n, hidden, kind);
        for (int r = 0; r < n; r++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int g = r * 2 * hidden + j, v = g + hidden;
                double gate = h[g], value = h[v], d = dy[r * hidden + j];
                dh[g] += (float)(d * value * Slope(gate, kind));
                dh[v] += (float)(d * Activation(gate, kind));
            }
        }
    }

    private static double Activation(double g, GateKind kind) => kind switch
    {
        GateKind.Glu => Silu.Sigmoid(g),
        GateKind.ReGlu => g < 0 ? 0 : g,
        GateKind.GeGlu => Gelu.ValueExact(g),
        _ => Limits.Value(g, g * Silu.Sigmoid(g)),
    };

    private static double Slope(double g, GateKind kind)
    {
        double s = Silu.Sigmoid(g), sc = Silu.Sigmoid(-g);
        return kind switch
        {
            GateKind.Glu => s * sc,
            GateKind.ReGlu => g <= 0 ? 0 : 1,
            GateKind.GeGlu => Gelu.SlopeExact(g),
            _ => Limits.Slope(g, s * (1 + g * sc)),
        };
    }

    private static void ValidateKind(GateKind kind)
    {
        if (kind is not (GateKind.Glu or GateKind.ReGlu or GateKind.GeGlu or GateKind.SwiGlu))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, $"kind must be Glu, ReGlu, GeGlu or SwiGlu, got {kind}.");
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> h, Span<float> y, int n, int hidden, GateKind kind)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(hidden, nameof(hidden));
        ValidateKind(kind);
        Shape.Length(h.Length, 2L * n * hidden, nameof(h), "N·2H = {0}·2·{1}", n, hidden);
        Shape.Destination(y.Length, (long)n * hidden, nameof(y), "N·H = {0}·{1}", n, hidden);
        Check.NoOverlap(h, nameof(h), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> h, Span<float> dh, int n, int hidden, GateKind kind)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(hidden, nameof(hidden));
        ValidateKind(kind);
        Shape.Length(dy.Length, (long)n * hidden, nameof(dy), "N·H = {0}·{1}", n, hidden);
        Shape.Length(h.Length, 2L * n * hidden, nameof(h), "N·2H = {0}·2·{1}", n, hidden);
        Shape.Destination(dh.Length, 2L * n * hidden, nameof(dh), "N·2H = {0}·2·{1}", n, hidden);
        Check.NoOverlap(dy, nameof(dy), dh, nameof(dh));
        Check.NoOverlap(h, nameof(h), dh, nameof(dh));
    }

    // One entry for both directions keeps the threading in one place: forward reads h, writes y;
    // backward reads h and dy, accumulates into dh.
    private static unsafe void Run<TOp>(ReadOnlySpan<float> h, Span<float> y, ReadOnlySpan<float> dy, Span<float> dh, int n, int hidden, bool backward)
        where TOp : struct, IActivation
    {
        bool wide = Vector512.IsHardwareAccelerated;
        int minRows = Math.Max(1, Elementwise.MinPerThread / hidden);
        if (n < 2 * minRows || KernelThreads.Max == 1)
        {
            Rows<TOp>(h, y, dy, dh, 0, n, hidden, backward, wide);
            return;
        }

        fixed (float* ph = h, py = y, pdy = dy, pdh = dh)
        {
            RunParallel<TOp>(ph, py, pdy, pdh, n, hidden, backward, wide, minRows);
        }
    }

    private static unsafe void RunParallel<TOp>(float* ph, float* py, float* pdy, float* pdh, int n, int hidden, bool backward, bool wide, int minRows)
        where TOp : struct, IActivation
    {
        var body = new RowsBody<TOp>(ph, py, pdy, pdh, n * hidden, hidden, backward, wide);
        KernelThreads.For(n, minRows, ref body);
    }

    private readonly unsafe struct RowsBody<TOp>(float* h, float* y, float* dy, float* dh, int total, int hidden, bool backward, bool wide)
        : IRangeBody
        where TOp : struct, IActivation
    {
        public void Run(int start, int end) => Rows<TOp>(
            new ReadOnlySpan<float>(h, 2 * total),
            backward ? default : new Span<float>(y, total),
            backward ? new ReadOnlySpan<float>(dy, total) : default,
            backward ? new Span<float>(dh, 2 * total) : default,
            start, end, hidden, backward, wide);
    }

    /// <summary>Rows [r0, r1) of either direction; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Rows<TOp>(ReadOnlySpan<float> h, Span<float> y, ReadOnlySpan<float> dy, Span<float> dh, int r0, int r1, int hidden, bool backward, bool wide)
        where TOp : struct, IActivation
    {
        // Tail buffers for the last partial vector of each row: gate, value, dy, dgate, dvalue.
        Span<float> tail = stackalloc float[5 * 16];
        for (int r = r0; r < r1; r++)
        {
            ReadOnlySpan<float> gate = h.Slice(r * 2 * hidden, hidden), value = h.Slice(r * 2 * hidden + hidden, hidden);
            if (!backward)
            {
                Span<float> yRow = y.Slice(r * hidden, hidden);
                if (wide)
                {
                    ForwardRow512<TOp>(gate, value, yRow, tail);
                }
                else
                {
                    ForwardRow256<TOp>(gate, value, yRow, tail);
                }
            }
            else
            {
                ReadOnlySpan<float> dyRow = dy.Slice(r * hidden, hidden);
                Span<float> dGate = dh.Slice(r * 2 * hidden, hidden), dValue = dh.Slice(r * 2 * hidden + hidden, hidden);
                if (wide)
                {
                    BackwardRow512<TOp>(gate, value, dyRow, dGate, dValue, tail);
                }
                else
                {
                    BackwardRow256<TOp>(gate, value, dyRow, dGate, dValue, tail);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow512<TOp>(ReadOnlySpan<float> gate, ReadOnlySpan<float> value, Span<float> y, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 16;
        int len = gate.Length, j = 0;
        ref float g = ref MemoryMarshal.GetReference(gate);
        ref float v = ref MemoryMarshal.GetReference(value);
        ref float o = ref MemoryMarshal.GetReference(y);
        for (; j <= len - W; j += W)
        {
            (TOp.Value(Vector512.LoadUnsafe(ref g, (nuint)j)) * Vector512.LoadUnsafe(ref v, (nuint)j)).StoreUnsafe(ref o, (nuint)j);
        }

        if (j < len)
        {
            Span<float> bg = tail[..W], bv = tail[W..(2 * W)];
            bg.Clear();
            bv.Clear();
            gate[j..].CopyTo(bg);
            value[j..].CopyTo(bv);
            (TOp.Value(Vector512.Create<float>(bg)) * Vector512.Create<float>(bv)).CopyTo(bg);
            bg[..(len - j)].CopyTo(y[j..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow256<TOp>(ReadOnlySpan<float> gate, ReadOnlySpan<float> value, Span<float> y, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 8;
        int len = gate.Length, j = 0;
        ref float g = ref MemoryMarshal.GetReference(gate);
        ref float v = ref MemoryMarshal.GetReference(value);
        ref float o = ref MemoryMarshal.GetReference(y);
        for (; j <= len - W; j += W)
        {
            (TOp.Value(Vector256.LoadUnsafe(ref g, (nuint)j)) * Vector256.LoadUnsafe(ref v, (nuint)j)).StoreUnsafe(ref o, (nuint)j);
        }

        if (j < len)
        {
            Span<float> bg = tail[..W], bv = tail[W..(2 * W)];
            bg.Clear();
            bv.Clear();
            gate[j..].CopyTo(bg);
            value[j..].CopyTo(bv);
            (TOp.Value(Vector256.Create<float>(bg)) * Vector256.Create<float>(bv)).CopyTo(bg);
            bg[..(len - j)].CopyTo(y[j..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRow512<TOp>(ReadOnlySpan<float> gate, ReadOnlySpan<float> value, ReadOnlySpan<float> dy,
        Span<float> dGate, Span<float> dValue, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 16;
        int len = gate.Length, j = 0;
        ref float g = ref MemoryMarshal.GetReference(gate);
        ref float v = ref MemoryMarshal.GetReference(value);
        ref float d = ref MemoryMarshal.GetReference(dy);
        ref float dg = ref MemoryMarshal.GetReference(dGate);
        ref float dv = ref MemoryMarshal.GetReference(dValue);
        for (; j <= len - W; j += W)
        {
            Vector512<float> slope = TOp.Slope(Vector512.LoadUnsafe(ref g, (nuint)j), out Vector512<float> act);
            Vector512<float> dyj = Vector512.LoadUnsafe(ref d, (nuint)j);
            Vector512.FusedMultiplyAdd(dyj * Vector512.LoadUnsafe(ref v, (nuint)j), slope, Vector512.LoadUnsafe(ref dg, (nuint)j)).StoreUnsafe(ref dg, (nuint)j);
            Vector512.FusedMultiplyAdd(dyj, act, Vector512.LoadUnsafe(ref dv, (nuint)j)).StoreUnsafe(ref dv, (nuint)j);
        }

        if (j < len)
        {
            Span<float> bg = tail[..W], bv = tail[W..(2 * W)], bd = tail[(2 * W)..(3 * W)], bdg = tail[(3 * W)..(4 * W)], bdv = tail[(4 * W)..(5 * W)];
            tail[..(5 * W)].Clear();
            gate[j..].CopyTo(bg);
            value[j..].CopyTo(bv);
            dy[j..].CopyTo(bd);
            dGate[j..].CopyTo(bdg);
            dValue[j..].CopyTo(bdv);
            Vector512<float> slope = TOp.Slope(Vector512.Create<float>(bg), out Vector512<float> act);
            Vector512<float> dyj = Vector512.Create<float>(bd);
            Vector512.FusedMultiplyAdd(dyj * Vector512.Create<float>(bv), slope, Vector512.Create<float>(bdg)).CopyTo(bdg);
            Vector512.FusedMultiplyAdd(dyj, act, Vector512.Create<float>(bdv)).CopyTo(bdv);
            bdg[..(len - j)].CopyTo(dGate[j..]);
            bdv[..(len - j)].CopyTo(dValue[j..]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardRow256<TOp>(ReadOnlySpan<float> gate, ReadOnlySpan<float> value, ReadOnlySpan<float> dy,
        Span<float> dGate, Span<float> dValue, Span<float> tail)
        where TOp : struct, IActivation
    {
        const int W = 8;
        int len = gate.Length, j = 0;
        ref float g = ref MemoryMarshal.GetReference(gate);
        ref float v = ref MemoryMarshal.GetReference(value);
        ref float d = ref MemoryMarshal.GetReference(dy);
        ref float dg = ref MemoryMarshal.GetReference(dGate);
        ref float dv = ref MemoryMarshal.GetReference(dValue);
        for (; j <= len - W; j += W)
        {
            Vector256<float> slope = TOp.Slope(Vector256.LoadUnsafe(ref g, (nuint)j), out Vector256<float> act);
            Vector256<float> dyj = Vector256.LoadUnsafe(ref d, (nuint)j);
            Vector256.FusedMultiplyAdd(dyj * Vector256.LoadUnsafe(ref v, (nuint)j), slope, Vector256.LoadUnsafe(ref dg, (nuint)j)).StoreUnsafe(ref dg, (nuint)j);
            Vector256.FusedMultiplyAdd(dyj, act, Vector256.LoadUnsafe(ref dv, (nuint)j)).StoreUnsafe(ref dv, (nuint)j);
        }

        if (j < len)
        {
            Span<float> bg = tail[..W], bv = tail[W..(2 * W)], bd = tail[(2 * W)..(3 * W)], bdg = tail[(3 * W)..(4 * W)], bdv = tail[(4 * W)..(5 * W)];
            tail[..(5 * W)].Clear();
            gate[j..].CopyTo(bg);
            value[j..].CopyTo(bv);
            dy[j..].CopyTo(bd);
            dGate[j..].CopyTo(bdg);
            dValue[j..].CopyTo(bdv);
            Vector256<float> slope = TOp.Slope(Vector256.Create<float>(bg), out Vector256<float> act);
            Vector256<float> dyj = Vector256.Create<float>(bd);
            Vector256.FusedMultiplyAdd(dyj * Vector256.Create<float>(bv), slope, Vector256.Create<float>(bdg)).CopyTo(bdg);
            Vector256.FusedMultiplyAdd(dyj, act, Vector256.Create<float>(bdv)).CopyTo(bdv);
            bdg[..(len - j)].CopyTo(dGate[j..]);
            bdv[..(len - j)].CopyTo(dValue[j..]);
        }
    }
}
