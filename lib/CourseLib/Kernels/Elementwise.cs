using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CourseLib.Kernels;

/// <summary>
/// An activation f as the fast paths see it: its value and its slope f′ on a whole vector. Implemented by small
/// structs (<see cref="ReluOp"/>, <see cref="GeluErfOp"/>, …) so the generic loops below are specialised and
/// inlined per activation by the JIT, as TensorPrimitives does with its operator structs.
/// </summary>
internal interface IActivation
{
    /// <summary>f(x) per lane.</summary>
    static abstract Vector512<float> Value(Vector512<float> x);

    /// <summary>f′(x) per lane, and f(x) in <paramref name="value"/> (they share most of the work).</summary>
    static abstract Vector512<float> Slope(Vector512<float> x, out Vector512<float> value);

    /// <summary>f(x) per lane.</summary>
    static abstract Vector256<float> Value(Vector256<float> x);

    /// <summary>f′(x) per lane, and f(x) in <paramref name="value"/>.</summary>
    static abstract Vector256<float> Slope(Vector256<float> x, out Vector256<float> value);
}

/// <summary>ReLU: f(x) = max(x, 0), f′(x) = 0 for x ≤ 0 (PyTorch's choice at 0), 1 otherwise.</summary>
internal readonly struct ReluOp : IActivation
{
    // x < 0 is false for NaN, so NaN passes through; the slope tests x ≤ 0 (false for NaN) as torch's threshold_backward does.
    public static Vector512<float> Value(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.Zero, x);

    public static Vector512<float> Slope(Vector512<float> x, out Vector512<float> value)
    {
        value = Value(x);
        return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.Zero, Vector512<float>.One);
    }

    public static Vector256<float> Value(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x);

    public static Vector256<float> Slope(Vector256<float> x, out Vector256<float> value)
    {
        value = Value(x);
        return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.Zero, Vector256<float>.One);
    }
}

/// <summary>
/// Exact GELU: f(x) = x·Φ(x), f′(x) = Φ(x) + x·φ(x). Everything is computed on xc = x clamped to ±20 (NaN passes),
/// where Φ is already exactly 0 or 1 and φ exactly 0 in float; the value uses max(x, −20)·Φ, so ±∞ give the limits
/// (+∞ and −0; slopes 1 and 0) with no extra test.
/// </summary>
internal readonly struct GeluErfOp : IActivation
{
    public static Vector512<float> Value(Vector512<float> x) =>
        FloorAtMinus20(x) * ActivationMath.NormalCdfClamped(ActivationMath.ClampGauss(x));

    // The slope needs Φ and φ, and both come from one exponential: φ(x) = e^(−x²/2)/√(2π) and Φ(−|x|) = e^(−x²/2)·R(|x|)
    // (see ActivationMath.GaussianTailRatio). Φ is the same call as in Value, so the value returned beside the slope
    // equals Value(x) bit for bit.
    public static Vector512<float> Slope(Vector512<float> x, out Vector512<float> value)
    {
        Vector512<float> xc = ActivationMath.ClampGauss(x);
        Vector512<float> cdf = ActivationMath.NormalCdfClamped(xc, out Vector512<float> e);
        value = FloorAtMinus20(x) * cdf;
        return Vector512.FusedMultiplyAdd(xc, e * Vector512.Create(ActivationMath.InvSqrt2Pi), cdf);
    }

    public static Vector256<float> Value(Vector256<float> x) =>
        FloorAtMinus20(x) * ActivationMath.NormalCdfClamped(ActivationMath.ClampGauss(x));

    public static Vector256<float> Slope(Vector256<float> x, out Vector256<float> value)
    {
        Vector256<float> xc = ActivationMath.ClampGauss(x);
        Vector256<float> cdf = ActivationMath.NormalCdfClamped(xc, out Vector256<float> e);
        value = FloorAtMinus20(x) * cdf;
        return Vector256.FusedMultiplyAdd(xc, e * Vector256.Create(ActivationMath.InvSqrt2Pi), cdf);
    }

    private static Vector512<float> FloorAtMinus20(Vector512<float> x) => Limits.FloorAt(x, -ActivationMath.GaussClamp);

    private static Vector256<float> FloorAtMinus20(Vector256<float> x) => Limits.FloorAt(x, -ActivationMath.GaussClamp);
}

/// <summary>
/// Tanh-approximated GELU: f(x) = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³). Computed as x·σ(2u), which is the
/// same function (½(1 + tanh u) = σ(2u)) without the cancellation of 1 + tanh u for negative x.
/// f′(x) = σ(2u) + x·2σ(2u)(1 − σ(2u))·u′, u′ = √(2/π)(1 + 3·0.044715x²).
/// </summary>
internal readonly struct GeluTanhOp : IActivation
{
    internal const float Sqrt2OverPi = 0.797884561f;
    internal const float Cubic = 0.044715f;

    // σ(2u) saturates for |x| > 6, so u is computed on xc = x clamped to ±100 (x³ and x² stay finite, no ∞·0 in the
    // slope, whose limits at ±∞ then come out as 1 and 0 by themselves). The value multiplies σ(2u) by x floored at
    // −100 instead of x: the same number for every x ≥ −100, −0 below (σ(2u) is 0 there) and at −∞, where x·0 is NaN.
    // NaN passes both clamps (vmaxps/vminps return the second operand, here x, when either is NaN).
    public static Vector512<float> Value(Vector512<float> x)
    {
        Vector512<float> floor = Limits.FloorAt(x, -100f);
        Vector512<float> xc = Limits.CeilAt(floor, 100f);
        // −2u directly (negated constants, exactly −(2u)); |2u| ≤ 7.2e4 for |xc| ≤ 100.
        Vector512<float> minusTwoU = xc * Vector512.FusedMultiplyAdd(xc * xc, Vector512.Create(-2 * Sqrt2OverPi * Cubic), Vector512.Create(-2 * Sqrt2OverPi));
        return floor * ActivationMath.SigmoidOfNegatedBounded(minusTwoU);
    }

    public static Vector512<float> Slope(Vector512<float> x, out Vector512<float> value)
    {
        Vector512<float> floor = Limits.FloorAt(x, -100f);
        Vector512<float> xc = Limits.CeilAt(floor, 100f);
        Vector512<float> x2 = xc * xc;
        Vector512<float> twoU = xc * Vector512.FusedMultiplyAdd(x2, Vector512.Create(2 * Sqrt2OverPi * Cubic), Vector512.Create(2 * Sqrt2OverPi));
        Vector512<float> twoDu = Vector512.FusedMultiplyAdd(x2, Vector512.Create(2 * Sqrt2OverPi * 3 * Cubic), Vector512.Create(2 * Sqrt2OverPi));
        Vector512<float> s = ActivationMath.Sigmoid(twoU, out Vector512<float> sc);
        value = floor * s;
        return Vector512.FusedMultiplyAdd(xc * s * sc, twoDu, s);
    }

    public static Vector256<float> Value(Vector256<float> x)
    {
        Vector256<float> floor = Limits.FloorAt(x, -100f);
        Vector256<float> xc = Limits.CeilAt(floor, 100f);
        Vector256<float> minusTwoU = xc * Vector256.FusedMultiplyAdd(xc * xc, Vector256.Create(-2 * Sqrt2OverPi * Cubic), Vector256.Create(-2 * Sqrt2OverPi));
        return floor * ActivationMath.SigmoidOfNegatedBounded(minusTwoU);
    }

    public static Vector256<float> Slope(Vector256<float> x, out Vector256<float> value)
    {
        Vector256<float> floor = Limits.FloorAt(x, -100f);
        Vector256<float> xc = Limits.CeilAt(floor, 100f);
        Vector256<float> x2 = xc * xc;
        Vector256<float> twoU = xc * Vector256.FusedMultiplyAdd(x2, Vector256.Create(2 * Sqrt2OverPi * Cubic), Vector256.Create(2 * Sqrt2OverPi));
        Vector256<float> twoDu = Vector256.FusedMultiplyAdd(x2, Vector256.Create(2 * Sqrt2OverPi * 3 * Cubic), Vector256.Create(2 * Sqrt2OverPi));
        Vector256<float> s = ActivationMath.Sigmoid(twoU, out Vector256<float> sc);
        value = floor * s;
        return Vector256.FusedMultiplyAdd(xc * s * sc, twoDu, s);
    }
}

/// <summary>SiLU/Swish: f(x) = x·σ(x), f′(x) = σ(x)·(1 + x·(1 − σ(x))).</summary>
internal readonly struct SiluOp : IActivation
{
    // x floored at −MaxValue: the same number for every finite x, and −0 (the limit) instead of −∞·0 = NaN at −∞.
    public static Vector512<float> Value(Vector512<float> x) => Limits.FloorAt(x, -float.MaxValue) * ActivationMath.Sigmoid(x);

    public static Vector512<float> Slope(Vector512<float> x, out Vector512<float> value)
    {
        Vector512<float> s = ActivationMath.Sigmoid(x, out Vector512<float> sc);
        value = Limits.FloorAt(x, -float.MaxValue) * s;
        return Limits.Slope(x, s * Vector512.FusedMultiplyAdd(x, sc, Vector512<float>.One));
    }

    public static Vector256<float> Value(Vector256<float> x) => Limits.FloorAt(x, -float.MaxValue) * ActivationMath.Sigmoid(x);

    public static Vector256<float> Slope(Vector256<float> x, out Vector256<float> value)
    {
        Vector256<float> s = ActivationMath.Sigmoid(x, out Vector256<float> sc);
        value = Limits.FloorAt(x, -float.MaxValue) * s;
        return Limits.Slope(x, s * Vector256.FusedMultiplyAdd(x, sc, Vector256<float>.One));
    }
}

/// <summary>Sigmoid (the GLU gate): f(x) = σ(x), f′(x) = σ(x)(1 − σ(x)).</summary>
internal readonly struct SigmoidOp : IActivation
{
    public static Vector512<float> Value(Vector512<float> x) => ActivationMath.Sigmoid(x);

    public static Vector512<float> Slope(Vector512<float> x, out Vector512<float> value)
    {
        value = ActivationMath.Sigmoid(x, out Vector512<float> sc);
        return value * sc;
    }

    public static Vector256<float> Value(Vector256<float> x) => ActivationMath.Sigmoid(x);

    public static Vector256<float> Slope(Vector256<float> x, out Vector256<float> value)
    {
        value = ActivationMath.Sigmoid(x, out Vector256<float> sc);
        return value * sc;
    }
}

/// <summary>
/// GELU (both forms) and SiLU tend to ReLU at ±∞: f(+∞) = +∞, f(−∞) = 0, f′(+∞) = 1, f′(−∞) = 0. Their formulas
/// evaluate ∞·0 = NaN there (libtorch 2.10 returns NaN for GELU(±∞) and SiLU(−∞)); we return the limits instead.
/// For the values it is enough to floor the x that multiplies the gate (<see cref="FloorAt(Vector512{float}, float)"/>,
/// one instruction with AVX-512): the gate is exactly 0 there, so the product is −0, the limit. Slopes that would
/// meet ∞·0 blend the limit in (<see cref="Slope(Vector512{float}, Vector512{float})"/>). NaN inputs still give NaN.
/// </summary>
internal static class Limits
{
    /// <summary>max(x, floor) per lane; NaN passes (vmaxps returns its second operand, x, when either is NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> FloorAt(Vector512<float> x, float floor) => Avx512F.IsSupported
        ? Avx512F.Max(Vector512.Create(floor), x)
        : Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(floor)), Vector512.Create(floor), x);

    /// <summary>min(x, ceiling) per lane; NaN passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> CeilAt(Vector512<float> x, float ceiling) => Avx512F.IsSupported
        ? Avx512F.Min(Vector512.Create(ceiling), x)
        : Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ceiling)), Vector512.Create(ceiling), x);

    /// <summary>max(x, floor) per lane; NaN passes (the comparison is false for NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> FloorAt(Vector256<float> x, float floor) =>
        Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(floor)), Vector256.Create(floor), x);

    /// <summary>min(x, ceiling) per lane; NaN passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> CeilAt(Vector256<float> x, float ceiling) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ceiling)), Vector256.Create(ceiling), x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Slope(Vector512<float> x, Vector512<float> slope) =>
        Vector512.ConditionalSelect(IsInfinity(x),
            Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One, Vector512<float>.Zero), slope);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Slope(Vector256<float> x, Vector256<float> slope) =>
        Vector256.ConditionalSelect(IsInfinity(x),
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), Vector256<float>.One, Vector256<float>.Zero), slope);

    /// <summary>The scalar form the references use: the limit at ±∞, otherwise <paramref name="value"/>.</summary>
    internal static double Value(double x, double value) => double.IsInfinity(x) ? Math.Max(x, 0) : value;

    /// <summary>The scalar form of <see cref="Slope(Vector512{float}, Vector512{float})"/>.</summary>
    internal static double Slope(double x, double slope) => double.IsInfinity(x) ? (x > 0 ? 1 : 0) : slope;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> IsInfinity(Vector512<float> x) => Vector512.Equals(Vector512.Abs(x), Vector512.Create(float.PositiveInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> IsInfinity(Vector256<float> x) => Vector256.Equals(Vector256.Abs(x), Vector256.Create(float.PositiveInfinity));
}

/// <summary>
/// The loops every element-wise activation shares: y = f(x) and dx += dy·f′(x), vectorised (Vector512 where the
/// hardware has it, Vector256 otherwise), split across threads above <see cref="MinPerThread"/> elements. The last
/// partial vector goes through a zero-padded stack buffer, so every element sees exactly the same arithmetic
/// whatever its position (the fast path agrees with itself across lengths), and nothing is allocated.
/// The loops are compiled fully optimised on first call (AggressiveOptimization): a notebook that times one call
/// sees the fast code, not the JIT's first tier.
/// </summary>
internal static class Elementwise
{
    /// <summary>
    /// Elements per thread before a second thread pays off: ~32K elements take ~10 µs here, several times the
    /// cost of waking a pool thread.
    /// </summary>
    internal const int MinPerThread = 1 << 15;

    /// <summary>y may be exactly x (in place, element i is read before it is written), but not shifted against it.</summary>
    internal static void SameOrDisjoint(ReadOnlySpan<float> input, string inputName, ReadOnlySpan<float> output, string outputName)
    {
        if (input.Overlaps(output, out int offset) && offset != 0)
        {
            throw new ArgumentException(
                $"{outputName} partially overlaps {inputName} (shifted by {offset} elements); use the same buffer for an in-place call or separate buffers.",
                outputName);
        }
    }

    internal static void ValidateForward(ReadOnlySpan<float> x, Span<float> y)
    {
        Check.Destination(y.Length, x.Length, nameof(y), "x.Length");
        SameOrDisjoint(x, nameof(x), y, nameof(y));
    }

    internal static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Check.Length(dy.Length, x.Length, nameof(dy), "x.Length");
        Check.Destination(dx.Length, x.Length, nameof(dx), "x.Length");
        Check.NoOverlap(dy, nameof(dy), dx, nameof(dx));
        Check.NoOverlap(x, nameof(x), dx, nameof(dx));
    }

    internal static unsafe void Forward<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : struct, IActivation
    {
        int n = x.Length;
        if (n < 2 * MinPerThread || KernelThreads.Max == 1)
        {
            ForwardRange<TOp>(x, y, Vector512.IsHardwareAccelerated);
            return;
        }

        fixed (float* px = x, py = y)
        {
            ForwardParallel<TOp>(px, py, n);
        }
    }

    /// <summary>dx += dy·f′(x), or dx = dy·f′(x) when <paramref name="accumulate"/> is false (a layer that owns dx skips clearing it).</summary>
    internal static unsafe void Backward<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, bool accumulate = true)
        where TOp : struct, IActivation
    {
        int n = x.Length;
        if (n < 2 * MinPerThread || KernelThreads.Max == 1)
        {
            BackwardRange<TOp>(dy, x, dx, Vector512.IsHardwareAccelerated, accumulate);
            return;
        }

        fixed (float* pdy = dy, px = x, pdx = dx)
        {
            BackwardParallel<TOp>(pdy, px, pdx, n, accumulate);
        }
    }

    private static unsafe void ForwardParallel<TOp>(float* px, float* py, int n)
        where TOp : struct, IActivation
    {
        bool wide = Vector512.IsHardwareAccelerated;
        var body = new ForwardBody<TOp>(px, py, wide);
        KernelThreads.For(n, MinPerThread, ref body);
    }

    private static unsafe void BackwardParallel<TOp>(float* pdy, float* px, float* pdx, int n, bool accumulate)
        where TOp : struct, IActivation
    {
        bool wide = Vector512.IsHardwareAccelerated;
        var body = new BackwardBody<TOp>(pdy, px, pdx, wide, accumulate);
        KernelThreads.For(n, MinPerThread, ref body);
    }

    /// <summary>y = f(x) on one contiguous range; <paramref name="wide"/> picks Vector512 over Vector256 (tests run both).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardRange<TOp>(ReadOnlySpan<float> x, Span<float> y, bool wide)
        where TOp : struct, IActivation
    {
        int n = x.Length;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (wide)
        {
            // Two independent vectors per iteration: one activation is a ~40-deep dependency chain (exp, divide,
            // polynomials), so a single chain leaves the pipes waiting on latency; four would spill registers.
            for (; i <= n - 2 * Vector512<float>.Count; i += 2 * Vector512<float>.Count)
            {
                nuint o = (nuint)i;
                Vector512<float> a = TOp.Value(Vector512.LoadUnsafe(ref xr, o));
                Vector512<float> b = TOp.Value(Vector512.LoadUnsafe(ref xr, o + 16));
                a.StoreUnsafe(ref yr, o);
                b.StoreUnsafe(ref yr, o + 16);
            }

            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                TOp.Value(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buf = stackalloc float[Vector512<float>.Count];
                buf.Clear();
                x[i..].CopyTo(buf);
                TOp.Value(Vector512.Create<float>(buf)).CopyTo(buf);
                buf[..(n - i)].CopyTo(y[i..]);
            }
        }
        else
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                TOp.Value(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buf = stackalloc float[Vector256<float>.Count];
                buf.Clear();
                x[i..].CopyTo(buf);
                TOp.Value(Vector256.Create<float>(buf)).CopyTo(buf);
                buf[..(n - i)].CopyTo(y[i..]);
            }
        }
    }

    /// <summary>dx += dy·f′(x) on one contiguous range (dx = dy·f′(x), dx unread, when <paramref name="accumulate"/> is false).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void BackwardRange<TOp>(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, bool wide, bool accumulate = true)
        where TOp : struct, IActivation
    {
        int n = x.Length;
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        if (wide)
        {
            for (; i <= n - 2 * Vector512<float>.Count; i += 2 * Vector512<float>.Count)
            {
                nuint o = (nuint)i;
                Vector512<float> sa = TOp.Slope(Vector512.LoadUnsafe(ref xr, o), out _);
                Vector512<float> sb = TOp.Slope(Vector512.LoadUnsafe(ref xr, o + 16), out _);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref dyr, o), sa, accumulate ? Vector512.LoadUnsafe(ref dxr, o) : default).StoreUnsafe(ref dxr, o);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref dyr, o + 16), sb, accumulate ? Vector512.LoadUnsafe(ref dxr, o + 16) : default).StoreUnsafe(ref dxr, o + 16);
            }

            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> slope = TOp.Slope(Vector512.LoadUnsafe(ref xr, (nuint)i), out _);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref dyr, (nuint)i), slope, accumulate ? Vector512.LoadUnsafe(ref dxr, (nuint)i) : default)
                    .StoreUnsafe(ref dxr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buf = stackalloc float[3 * Vector512<float>.Count];
                buf.Clear();
                Span<float> bdy = buf[..16], bx = buf[16..32], bdx = buf[32..];
                dy[i..n].CopyTo(bdy);
                x[i..n].CopyTo(bx);
                if (accumulate)
                {
                    dx[i..n].CopyTo(bdx);
                }

                Vector512<float> slope = TOp.Slope(Vector512.Create<float>(bx), out _);
                Vector512.FusedMultiplyAdd(Vector512.Create<float>(bdy), slope, Vector512.Create<float>(bdx)).CopyTo(bdx);
                bdx[..(n - i)].CopyTo(dx[i..]);
            }
        }
        else
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> slope = TOp.Slope(Vector256.LoadUnsafe(ref xr, (nuint)i), out _);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref dyr, (nuint)i), slope, accumulate ? Vector256.LoadUnsafe(ref dxr, (nuint)i) : default)
                    .StoreUnsafe(ref dxr, (nuint)i);
            }

            if (i < n)
            {
                Span<float> buf = stackalloc float[3 * Vector256<float>.Count];
                buf.Clear();
                Span<float> bdy = buf[..8], bx = buf[8..16], bdx = buf[16..];
                dy[i..n].CopyTo(bdy);
                x[i..n].CopyTo(bx);
                if (accumulate)
                {
                    dx[i..n].CopyTo(bdx);
                }

                Vector256<float> slope = TOp.Slope(Vector256.Create<float>(bx), out _);
                Vector256.FusedMultiplyAdd(Vector256.Create<float>(bdy), slope, Vector256.Create<float>(bdx)).CopyTo(bdx);
                bdx[..(n - i)].CopyTo(dx[i..]);
            }
        }
    }

    private readonly unsafe struct ForwardBody<TOp>(float* x, float* y, bool wide) : IRangeBody
        where TOp : struct, IActivation
    {
        public void Run(int start, int end) =>
            ForwardRange<TOp>(new ReadOnlySpan<float>(x + start, end - start), new Span<float>(y + start, end - start), wide);
    }

    private readonly unsafe struct BackwardBody<TOp>(float* dy, float* x, float* dx, bool wide, bool accumulate) : IRangeBody
        where TOp : struct, IActivation
    {
        public void Run(int start, int end) => BackwardRange<TOp>(
            new ReadOnlySpan<float>(dy + start, end - start),
            new ReadOnlySpan<float>(x + start, end - start),
            new Span<float>(dx + start, end - start),
            wide,
            accumulate);
    }
}
