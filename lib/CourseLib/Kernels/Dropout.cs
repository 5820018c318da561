// Inverted dropout with an explicit seed.   x, y, dy, dx: [L] (any shape, flattened)   mask: [L] bytes
//
//   keep_i = Hash(seed, i) ≥ p·2³²        (so P(drop) = p up to 2⁻³²)
//   y_i    = keep_i ? x_i/(1 − p) : 0     mask_i = keep_i ? 1 : 0
//   dx_i  += mask_i ? dy_i/(1 − p) : 0
//
// Scaling the kept values by 1/(1 − p) keeps E[y] = x, so inference simply skips dropout (no rescaling).
// The decision for element i depends only on (seed, i): a counter-based hash (two keyed rounds of the
// "lowbias32" integer mixer, a bijection on 32 bits with near-ideal avalanche), not a stateful generator.
// So the mask is the same on 1 or many threads, in the vector loop or the scalar tail, in Forward and in
// ForwardReference — and a training step can be replayed from its seed. Callers use a new seed per step and per
// layer. p = 0 is the identity (every element kept, scale 1); p must be in [0, 1). NaN/∞ in kept elements
// propagate; dropped elements are exactly 0 (the select does not multiply, so 0·∞ never arises).
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels;

/// <summary>Inverted dropout whose mask is a pure function of (seed, element index). See the file header.</summary>
public static class Dropout
{
    private const int MinPerThread = 256 * 1024;

    /// <summary>y = x·mask/(1 − p) with mask_i = [Hash(seed, i) ≥ p·2³²] (fast path).</summary>
    /// <param name="x">Input, any length L.</param>
    /// <param name="y">Output, at least L; must not overlap <paramref name="x"/>.</param>
    /// <param name="mask">Receives 1 for kept and 0 for dropped elements, at least L (needed by <see cref="Backward"/>).</param>
    /// <param name="p">Drop probability in [0, 1); 0 copies x.</param>
    /// <param name="seed">Selects the mask; the same seed gives the same mask.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, Span<float> y, Span<byte> mask, float p, ulong seed)
    {
        ValidateForward(x, y, mask, p);
        (uint k0, uint k1) = Keys(seed);
        uint threshold = Threshold(p);
        float scale = 1f / (1f - p);
        fixed (float* px = x, py = y)
        fixed (byte* pm = mask)
        {
            int len = x.Length;
            if (KernelThreads.Max > 1 && len >= 2 * MinPerThread)
            {
                ForwardThreaded(px, py, pm, len, k0, k1, threshold, scale);
            }
            else
            {
                ForwardRange(px, py, pm, 0, len, k0, k1, threshold, scale);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Forward"/>: same hash, one element at a time.</summary>
    /// <inheritdoc cref="Forward" path="/param"/>
    public static void ForwardReference(ReadOnlySpan<float> x, Span<float> y, Span<byte> mask, float p, ulong seed)
    {
        ValidateForward(x, y, mask, p);
        (uint k0, uint k1) = Keys(seed);
        uint threshold = Threshold(p);
        float scale = 1f / (1f - p);
        for (int i = 0; i < x.Length; i++)
        {
            bool keep = Hash((uint)i, k0, k1) >= threshold;
            mask[i] = keep ? (byte)1 : (byte)0;
            y[i] = keep ? x[i] * scale : 0f;
        }
    }

    /// <summary>dx += dy·mask/(1 − p) (fast path).</summary>
    /// <param name="dy">Gradient of the output, length L.</param>
    /// <param name="mask">The mask <see cref="Forward"/> wrote, at least L (0 or 1).</param>
    /// <param name="dx">Accumulates the input gradient, at least L; must not overlap <paramref name="dy"/>.</param>
    /// <param name="p">The forward's drop probability.</param>
    public static unsafe void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<byte> mask, Span<float> dx, float p)
    {
        ValidateBackward(dy, mask, dx, p);
        float scale = 1f / (1f - p);
        fixed (float* pdy = dy, pdx = dx)
        fixed (byte* pm = mask)
        {
            int len = dy.Length;
            if (KernelThreads.Max > 1 && len >= 2 * MinPerThread)
            {
                BackwardThreaded(pdy, pm, pdx, len, scale);
            }
            else
            {
                BackwardRange(pdy, pm, pdx, 0, len, scale);
            }
        }
    }

    /// <summary>The plain loop of <see cref="Backward"/>.</summary>
    /// <inheritdoc cref="Backward" path="/param"/>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<byte> mask, Span<float> dx, float p)
    {
        ValidateBackward(dy, mask, dx, p);
        float scale = 1f / (1f - p);
        for (int i = 0; i < dy.Length; i++)
        {
            if (mask[i] != 0)
            {
                dx[i] += dy[i] * scale;
            }
        }
    }

    private static void ValidateP(float p)
    {
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, $"Dropout probability p must be in [0, 1), got {p}.");
        }
    }

    private static void ValidateForward(ReadOnlySpan<float> x, Span<float> y, Span<byte> mask, float p)
    {
        ValidateP(p);
        Check.Destination(y.Length, x.Length, nameof(y), "x.Length");
        Check.Destination(mask.Length, x.Length, nameof(mask), "x.Length");
        Check.NoOverlap(x, nameof(x), y, nameof(y));
    }

    private static void ValidateBackward(ReadOnlySpan<float> dy, ReadOnlySpan<byte> mask, Span<float> dx, float p)
    {
        ValidateP(p);
        if (mask.Length < dy.Length)
        {
            throw new ArgumentException($"mask has {mask.Length} elements but dy has {dy.Length}; pass the forward's mask.", nameof(mask));
        }

        Check.Destination(dx.Length, dy.Length, nameof(dx), "dy.Length");
        Check.NoOverlap(dy, nameof(dy), dx, nameof(dx));
    }

    // Two 32-bit keys from the 64-bit seed (SplitMix64's finalizer), so seeds 1 and 2 give unrelated masks.
    private static (uint K0, uint K1) Keys(ulong seed)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((uint)z, (uint)(z >> 32));
    }

    private static uint Threshold(float p) => (uint)Math.Min(Math.Round(p * 4294967296.0), uint.MaxValue);

    private static uint Mix(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    private static uint Hash(uint index, uint k0, uint k1) => Mix(Mix(index ^ k0) + k1);

    private static Vector512<uint> Mix(Vector512<uint> x)
    {
        x ^= Vector512.ShiftRightLogical(x, 16);
        x *= Vector512.Create(0x7FEB352Du);
        x ^= Vector512.ShiftRightLogical(x, 15);
        x *= Vector512.Create(0x846CA68Bu);
        x ^= Vector512.ShiftRightLogical(x, 16);
        return x;
    }

    private static Vector256<uint> Mix(Vector256<uint> x)
    {
        x ^= Vector256.ShiftRightLogical(x, 16);
        x *= Vector256.Create(0x7FEB352Du);
        x ^= Vector256.ShiftRightLogical(x, 15);
        x *= Vector256.Create(0x846CA68Bu);
        x ^= Vector256.ShiftRightLogical(x, 16);
        return x;
    }

    private static unsafe void ForwardThreaded(float* x, float* y, byte* mask, int len, uint k0, uint k1, uint threshold, float scale)
    {
        // Chunks of whole 64-element blocks; the hash makes the result independent of the split anyway.
        int blocks = (len + 63) / 64;
        var body = new ForwardBody(x, y, mask, len, k0, k1, threshold, scale);
        KernelThreads.For(blocks, MinPerThread / 64, ref body);
    }

    private static unsafe void BackwardThreaded(float* dy, byte* mask, float* dx, int len, float scale)
    {
        int blocks = (len + 63) / 64;
        var body = new BackwardBody(dy, mask, dx, len, scale);
        KernelThreads.For(blocks, MinPerThread / 64, ref body);
    }

    /// <summary>64-element blocks [start, end).</summary>
    private readonly unsafe struct ForwardBody(float* x, float* y, byte* mask, int len, uint k0, uint k1, uint threshold, float scale)
        : IRangeBody
    {
        public void Run(int start, int end) =>
            ForwardRange(x, y, mask, start * 64, Math.Min(len, end * 64), k0, k1, threshold, scale);
    }

    private readonly unsafe struct BackwardBody(float* dy, byte* mask, float* dx, int len, float scale) : IRangeBody
    {
        public void Run(int start, int end) => BackwardRange(dy, mask, dx, start * 64, Math.Min(len, end * 64), scale);
    }

    private static unsafe void ForwardRange(float* x, float* y, byte* mask, int start, int end, uint k0, uint k1, uint threshold, float scale)
    {
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> lanes = Vector512<uint>.Indices, vk0 = Vector512.Create(k0), vk1 = Vector512.Create(k1);
            Vector512<uint> thr = Vector512.Create(threshold), one = Vector512<uint>.One;
            Vector512<float> s = Vector512.Create(scale);
            for (; i <= end - 64; i += 64)
            {
                Vector512<uint> m0 = Keep512(x, y, i, lanes, vk0, vk1, thr, s), m1 = Keep512(x, y, i + 16, lanes, vk0, vk1, thr, s);
                Vector512<uint> m2 = Keep512(x, y, i + 32, lanes, vk0, vk1, thr, s), m3 = Keep512(x, y, i + 48, lanes, vk0, vk1, thr, s);
                Vector512.Narrow(Vector512.Narrow(m0 & one, m1 & one), Vector512.Narrow(m2 & one, m3 & one)).Store(mask + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> lanes = Vector256<uint>.Indices, vk0 = Vector256.Create(k0), vk1 = Vector256.Create(k1);
            Vector256<uint> thr = Vector256.Create(threshold), one = Vector256<uint>.One;
            Vector256<float> s = Vector256.Create(scale);
            for (; i <= end - 32; i += 32)
            {
                Vector256<uint> m0 = Keep256(x, y, i, lanes, vk0, vk1, thr, s), m1 = Keep256(x, y, i + 8, lanes, vk0, vk1, thr, s);
                Vector256<uint> m2 = Keep256(x, y, i + 16, lanes, vk0, vk1, thr, s), m3 = Keep256(x, y, i + 24, lanes, vk0, vk1, thr, s);
                Vector256.Narrow(Vector256.Narrow(m0 & one, m1 & one), Vector256.Narrow(m2 & one, m3 & one)).Store(mask + i);
            }
        }

        for (; i < end; i++)
        {
            bool keep = Hash((uint)i, k0, k1) >= threshold;
            mask[i] = keep ? (byte)1 : (byte)0;
            y[i] = keep ? x[i] * scale : 0f;
        }
    }

    /// <summary>Writes 16 outputs from element <paramref name="i"/> on and returns the keep mask (all ones = keep).</summary>
    private static unsafe Vector512<uint> Keep512(float* x, float* y, int i, Vector512<uint> lanes, Vector512<uint> k0,
        Vector512<uint> k1, Vector512<uint> threshold, Vector512<float> scale)
    {
        Vector512<uint> h = Mix(Mix((Vector512.Create((uint)i) + lanes) ^ k0) + k1);
        Vector512<uint> keep = Vector512.GreaterThanOrEqual(h, threshold);
        Vector512.ConditionalSelect(keep.AsSingle(), Vector512.Load(x + i) * scale, Vector512<float>.Zero).Store(y + i);
        return keep;
    }

    private static unsafe Vector256<uint> Keep256(float* x, float* y, int i, Vector256<uint> lanes, Vector256<uint> k0,
        Vector256<uint> k1, Vector256<uint> threshold, Vector256<float> scale)
    {
        Vector256<uint> h = Mix(Mix((Vector256.Create((uint)i) + lanes) ^ k0) + k1);
        Vector256<uint> keep = Vector256.GreaterThanOrEqual(h, threshold);
        Vector256.ConditionalSelect(keep.AsSingle(), Vector256.Load(x + i) * scale, Vector256<float>.Zero).Store(y + i);
        return keep;
    }

    private static unsafe void BackwardRange(float* dy, byte* mask, float* dx, int start, int end, float scale)
    {
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s = Vector512.Create(scale);
            for (; i <= end - 64; i += 64)
            {
                (Vector512<ushort> lo, Vector512<ushort> hi) = Vector512.Widen(Vector512.Load(mask + i));
                (Vector512<uint> m0, Vector512<uint> m1) = Vector512.Widen(lo);
                (Vector512<uint> m2, Vector512<uint> m3) = Vector512.Widen(hi);
                Accumulate512(dy, dx, i, m0, s);
                Accumulate512(dy, dx, i + 16, m1, s);
                Accumulate512(dy, dx, i + 32, m2, s);
                Accumulate512(dy, dx, i + 48, m3, s);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s = Vector256.Create(scale);
            for (; i <= end - 32; i += 32)
            {
                (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(Vector256.Load(mask + i));
                (Vector256<uint> m0, Vector256<uint> m1) = Vector256.Widen(lo);
                (Vector256<uint> m2, Vector256<uint> m3) = Vector256.Widen(hi);
                Accumulate256(dy, dx, i, m0, s);
                Accumulate256(dy, dx, i + 8, m1, s);
                Accumulate256(dy, dx, i + 16, m2, s);
                Accumulate256(dy, dx, i + 24, m3, s);
            }
        }

        for (; i < end; i++)
        {
            if (mask[i] != 0)
            {
                dx[i] += dy[i] * scale;
            }
        }
    }

    private static unsafe void Accumulate512(float* dy, float* dx, int i, Vector512<uint> m, Vector512<float> scale)
    {
        Vector512<float> dropped = Vector512.Equals(m, Vector512<uint>.Zero).AsSingle();
        Vector512<float> add = Vector512.ConditionalSelect(dropped, Vector512<float>.Zero, Vector512.Load(dy + i) * scale);
        (Vector512.Load(dx + i) + add).Store(dx + i);
    }

    private static unsafe void Accumulate256(float* dy, float* dx, int i, Vector256<uint> m, Vector256<float> scale)
    {
        Vector256<float> dropped = Vector256.Equals(m, Vector256<uint>.Zero).AsSingle();
        Vector256<float> add = Vector256.ConditionalSelect(dropped, Vector256<float>.Zero, Vector256.Load(dy + i) * scale);
        (Vector256.Load(dx + i) + add).Store(dx + i);
    }
}
