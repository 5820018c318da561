using CourseLib.Kernels;
using CourseLib.Kernels.LowPrecision;
using CourseLib.Tests.Support;
using CourseLib.Torch;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

public sealed class LowPrecisionTests(ITestOutputHelper output)
{
    // Values that stress rounding: ties, the edges of Half's range and subnormals, overflow, signed zeros, ∞.
    private static readonly float[] s_edgeValues =
    [
        0f, -0f, 1f, -1f, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue,
        float.Epsilon, -float.Epsilon, 1e-30f, 1e30f,
        65504f, 65519.99f, 65520f, -65520f, 6.1035156e-5f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 1e-7f,
        1f + MathF.Pow(2, -11), 1f + 3 * MathF.Pow(2, -11), 1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8),
        BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000),
        BitConverter.UInt32BitsToSingle(0x3F808001), BitConverter.UInt32BitsToSingle(0x7F7F8000),
        BitConverter.UInt32BitsToSingle(0x7F7FFFFF), BitConverter.UInt32BitsToSingle(0x007F8000),
    ];

    private static float[] TestValues(int seed)
    {
        // Gaussians over many binades plus the edge cases, in an order that puts edges in vector lanes and tails.
        float[] g = Compare.Randn(4000, seed);
        var rng = new Random(seed);
        for (int i = 0; i < g.Length; i++)
        {
            g[i] *= MathF.Pow(2, rng.Next(-30, 30));
        }

        return [.. s_edgeValues, .. g, .. s_edgeValues];
    }

    [Fact]
    public void HalfConvert_ToHalf_MatchesScalarCastBitForBit()
    {
        float[] values = TestValues(1);
        for (int len = 1; len <= values.Length; len += len < 100 ? 1 : 97)
        {
            var fast = new Half[len];
            var reference = new Half[len];
            HalfConvert.ToHalf(values.AsSpan(0, len), fast);
            HalfConvert.ToHalfReference(values.AsSpan(0, len), reference);
            for (int i = 0; i < len; i++)
            {
                Assert.True(BitConverter.HalfToUInt16Bits(fast[i]) == BitConverter.HalfToUInt16Bits(reference[i]),
                    $"ToHalf({values[i]:R}) = 0x{BitConverter.HalfToUInt16Bits(fast[i]):X4}, cast gives 0x{BitConverter.HalfToUInt16Bits(reference[i]):X4}");
            }
        }
    }

    [Fact]
    public void Convert_ToSingle_EveryBitPattern_IsExact()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }

        var halves = new Half[65536];
        for (int i = 0; i < bits.Length; i++)
        {
            halves[i] = BitConverter.UInt16BitsToHalf(bits[i]);
        }

        var fast = new float[65536];
        var reference = new float[65536];
        HalfConvert.ToSingle(halves, fast);
        HalfConvert.ToSingleReference(halves, reference);
        for (int i = 0; i < bits.Length; i++)
        {
            // Bits, not values: NaN payloads and the sign of zero must survive too.
            Assert.True(BitConverter.SingleToUInt32Bits(fast[i]) == BitConverter.SingleToUInt32Bits(reference[i]),
                $"Half 0x{i:X4} → 0x{BitConverter.SingleToUInt32Bits(fast[i]):X8}, the cast gives 0x{BitConverter.SingleToUInt32Bits(reference[i]):X8}");
        }

        BFloat16Convert.ToSingle(bits, fast);
        for (int i = 0; i < bits.Length; i++)
        {
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(fast[i]));
        }

        BFloat16Convert.ToSingleReference(bits, reference);
        Assert.True(fast.AsSpan().SequenceEqual(reference), "bfloat16 → float: fast differs from reference");
    }

    // Independent of the bit trick: pick the nearer of the two bfloat16 neighbours in double, ties to even.
    private static ushort NearestBFloat16(float x)
    {
        if (float.IsNaN(x))
        {
            return BFloat16Convert.NaN;
        }

        uint bits = BitConverter.SingleToUInt32Bits(x);
        ushort toward0 = (ushort)(bits >> 16);
        ushort away = (ushort)(toward0 + 1);
        double lo = Math.Abs((double)BFloat16Convert.ToSingle(toward0));
        // The neighbour past bfloat16's largest finite value is ∞; for rounding it sits at 2¹²⁸.
        double hi = (away & 0x7FFF) == 0x7F80 ? Math.Pow(2, 128) : Math.Abs((double)BFloat16Convert.ToSingle(away));
        double ax = Math.Abs((double)x);
        if (float.IsInfinity(x) || ax - lo < hi - ax)
        {
            return toward0;
        }

        if (ax - lo > hi - ax)
        {
            return away;
        }

        return (toward0 & 1) == 0 ? toward0 : away;
    }

    [Fact]
    public void BFloat16Convert_ToBFloat16_RoundsToNearestEven()
    {
        float[] values = [.. TestValues(2), float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001), BitConverter.UInt32BitsToSingle(0xFF800001)];
        for (int len = 1; len <= values.Length; len += len < 100 ? 1 : 89)
        {
            var fast = new ushort[len];
            var reference = new ushort[len];
            BFloat16Convert.ToBFloat16(values.AsSpan(0, len), fast);
            BFloat16Convert.ToBFloat16Reference(values.AsSpan(0, len), reference);
            Assert.True(fast.AsSpan().SequenceEqual(reference), $"fast vs reference differ at length {len}");
        }

        foreach (float v in values)
        {
            ushort got = BFloat16Convert.FromSingle(v);
            Assert.True(got == NearestBFloat16(v), $"bfloat16({v:R} = 0x{BitConverter.SingleToUInt32Bits(v):X8}) = 0x{got:X4}, nearest-even is 0x{NearestBFloat16(v):X4}");
        }

        // A NaN whose payload sits only in the low bits must not round into ∞.
        Assert.Equal(BFloat16Convert.NaN, BFloat16Convert.FromSingle(BitConverter.UInt32BitsToSingle(0x7F800001)));
    }

    [Fact]
    public void Convert_MatchLibTorchBitForBit()
    {
        // libtorch rounds float → Half/bfloat16 and we read the results back widened to float32. Widening is exact
        // and one-to-one (apart from NaN payloads; TestValues has no NaN), so equal float bits mean equal 16-bit values.
        TorchRuntime.Initialize();
        float[] values = TestValues(3);
        using var scope = NewDisposeScope();
        Tensor t = TorchInterop.ToTensor(values, [values.Length]);
        float[] torchHalf = TorchInterop.ToArray(t.to_type(ScalarType.Float16));
        float[] torchBf16 = TorchInterop.ToArray(t.to_type(ScalarType.BFloat16));

        var half = new Half[values.Length];
        HalfConvert.ToHalf(values, half);
        var halfBack = new float[values.Length];
        HalfConvert.ToSingle(half, halfBack);
        var bf16 = new ushort[values.Length];
        BFloat16Convert.ToBFloat16(values, bf16);
        var bf16Back = new float[values.Length];
        BFloat16Convert.ToSingle(bf16, bf16Back);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(BitConverter.SingleToUInt32Bits(halfBack[i]) == BitConverter.SingleToUInt32Bits(torchHalf[i]),
                $"Half({values[i]:R}): ours {halfBack[i]:R}, libtorch {torchHalf[i]:R}");
            Assert.True(BitConverter.SingleToUInt32Bits(bf16Back[i]) == BitConverter.SingleToUInt32Bits(torchBf16[i]),
                $"bfloat16({values[i]:R}): ours {bf16Back[i]:R}, libtorch {torchBf16[i]:R}");
        }

        output.WriteLine($"{values.Length} values bit-identical to libtorch in Half and bfloat16");
    }

    public enum Format
    {
        Half,
        BFloat16,
        Int8Weights,
    }

    // Runs fast and reference forward of one format on the same stored weights.
    private static (float[] Fast, float[] Reference) RunBoth(Format format, float[] x, float[] w, float[] b, int n, int inDim, int outDim)
    {
        var fast = new float[n * outDim];
        var reference = new float[n * outDim];
        switch (format)
        {
            case Format.Half:
                var h = new Half[w.Length];
                HalfConvert.ToHalf(w, h);
                HalfLinear.Forward(x, h, b, fast, n, inDim, outDim);
                HalfLinear.ForwardReference(x, h, b, reference, n, inDim, outDim);
                break;
            case Format.BFloat16:
                var bf = new ushort[w.Length];
                BFloat16Convert.ToBFloat16(w, bf);
                BFloat16Linear.Forward(x, bf, b, fast, n, inDim, outDim);
                BFloat16Linear.ForwardReference(x, bf, b, reference, n, inDim, outDim);
                break;
            default:
                var q = new sbyte[w.Length];
                var s = new float[outDim];
                Int8Linear.Quantize(w, q, s, inDim, outDim);
                Int8Linear.Forward(x, q, s, b, fast, n, inDim, outDim);
                Int8Linear.ForwardReference(x, q, s, b, reference, n, inDim, outDim);
                break;
        }

        return (fast, reference);
    }

    private static void FastMatchesReference(Format format, int n, int inDim, int outDim, bool bias, int seed)
    {
        float[] x = Compare.Randn(n * inDim, seed);
        float[] w = Compare.Randn(outDim * inDim, seed + 1, 1f / MathF.Sqrt(inDim));
        float[] b = bias ? Compare.Randn(outDim, seed + 2) : [];
        var (fast, reference) = RunBoth(format, x, w, b, n, inDim, outDim);
        // Float sums in blocks of 16 against a double sum of the same products: rounding of ≤ I float additions.
        Compare.Close(fast, reference, 2e-6, 1e-6, $"{format} Linear N={n} I={inDim} O={outDim} bias={bias}");
    }

    [Theory]
    [InlineData(Format.Half)]
    [InlineData(Format.BFloat16)]
    [InlineData(Format.Int8Weights)]
    public void Forward_EveryInDim1To256_MatchesReference(Format format)
    {
        // N = 2 takes the path that widens weights in registers, N = 5 the decoded-block path (4×4 and 1×4 kernels).
        for (int inDim = 1; inDim <= 256; inDim++)
        {
            FastMatchesReference(format, 2, inDim, 7, bias: inDim % 2 == 0, seed: inDim);
            FastMatchesReference(format, 5, inDim, 7, bias: inDim % 2 == 1, seed: inDim);
        }
    }

    [Theory]
    [InlineData(Format.Half)]
    [InlineData(Format.BFloat16)]
    [InlineData(Format.Int8Weights)]
    public void Forward_OddShapes_MatchReference(Format format)
    {
        foreach (var (n, inDim, outDim) in new[] { (1, 1, 1), (1, 64, 1), (3, 17, 3), (4, 33, 4), (9, 65, 15), (8, 100, 16), (13, 129, 17), (2, 300, 33), (64, 256, 1024), (130, 40, 20), (3, 256, 1024) })
        {
            FastMatchesReference(format, n, inDim, outDim, bias: true, seed: n + inDim + outDim);
            FastMatchesReference(format, n, inDim, outDim, bias: false, seed: n + inDim + outDim);
        }
    }

    [Fact]
    public void LowPrecisionError_FfnLayer_WithinExpectedBoundsAndNotExact()
    {
        // C = 256 → 4C = 1024, x ~ N(0,1), W ~ N(0, 1/C). Measured with seed 0 (Zen 4, .NET 10):
        // Half 2.15e-4, bfloat16 1.69e-3, int8 9.4e-3 (int8's step is max|W_o|/127 ≈ 3σ/127, coarser than
        // bfloat16's 2⁻⁸ relative step for typical weights). Upper bounds ≈ 3× the measurement; lower bounds ≈ 10×
        // below it, still far above the ~1e-7 of float summation alone, so a path that skipped the rounding fails.
        LowPrecisionErrorReport e = LowPrecisionError.Measure(64, 256, 1024, seed: 0);
        output.WriteLine($"max|y_lowp − y_fp32| / max|y_fp32|: Half {e.HalfWeights:E2}, bfloat16 {e.BFloat16Weights:E2}, int8 {e.Int8Weights:E2}");
        Assert.InRange(e.HalfWeights, 2e-5, 6e-4);
        Assert.InRange(e.BFloat16Weights, 2e-4, 5e-3);
        Assert.InRange(e.Int8Weights, 1e-3, 3e-2);
        Assert.True(e.BFloat16Weights > 4 * e.HalfWeights, "bfloat16 keeps 3 fewer mantissa bits than Half; its error should be ~8× larger");
    }

    [Fact]
    public void Int8Linear_Quantize_MatchesReferenceAndBoundsError()
    {
        int inDim = 77, outDim = 9;
        float[] w = Compare.Randn(outDim * inDim, 5, 0.1f);
        // Row 3 all zero (scale 0), row 5 with one outlier (coarse grid), row 7 with exact ties at ±0.5 level.
        w.AsSpan(3 * inDim, inDim).Clear();
        w[5 * inDim + 10] = 4f;
        for (int i = 0; i < inDim; i++)
        {
            w[7 * inDim + i] = (i % 7 - 3) * 0.5f;
        }

        w[7 * inDim] = 127f;
        var q = new sbyte[w.Length];
        var scales = new float[outDim];
        var qRef = new sbyte[w.Length];
        var scalesRef = new float[outDim];
        Int8Linear.Quantize(w, q, scales, inDim, outDim);
        Int8Linear.QuantizeReference(w, qRef, scalesRef, inDim, outDim);
        Assert.Equal(scalesRef, scales);
        Assert.Equal(qRef, q);

        var back = new float[w.Length];
        Int8Linear.Dequantize(q, scales, back, inDim, outDim);
        for (int o = 0; o < outDim; o++)
        {
            float s = scales[o];
            Assert.Equal(o == 3 ? 0f : MathF.Abs(w.AsSpan(o * inDim, inDim).ToArray().MaxBy(MathF.Abs)) / 127f, s);
            int maxLevel = 0;
            for (int i = 0; i < inDim; i++)
            {
                int k = o * inDim + i;
                Assert.Equal(q[k] * s, back[k]);
                Assert.True(Math.Abs(back[k] - w[k]) <= 0.5f * s * (1 + 1e-5f), $"|Ŵ − W| at [{o},{i}] = {Math.Abs(back[k] - w[k])} > scale/2 = {s / 2}");
                maxLevel = Math.Max(maxLevel, Math.Abs((int)q[k]));
            }

            Assert.Equal(o == 3 ? 0 : 127, maxLevel);
        }

        // Ties (w/scale = ±0.5, ±1.5 exactly, since scale = 127/127 = 1) go to the even level, as torch.round does:
        // w = −1, −0.5, 0, 0.5, 1, 1.5 at i = 1..6, then −1.5 at i = 7.
        Assert.Equal(1f, scales[7]);
        Assert.Equal(new sbyte[] { -1, 0, 0, 0, 1, 2, -2 }, q.AsSpan(7 * inDim + 1, 7).ToArray());
    }

    [Fact]
    public void Int8Linear_Quantize_MatchesLibTorchFormula()
    {
        TorchRuntime.Initialize();
        int inDim = 130, outDim = 24;
        float[] w = Compare.Randn(outDim * inDim, 6, 0.05f);
        var q = new sbyte[w.Length];
        var scales = new float[outDim];
        Int8Linear.Quantize(w, q, scales, inDim, outDim);

        using var scope = NewDisposeScope();
        Tensor tw = TorchInterop.ToTensor(w, [outDim, inDim]);
        Tensor ts = tw.abs().amax([1], keepdim: true) / 127f;
        Tensor tq = (tw / ts).round().clamp(TorchConstants.Of(-127), TorchConstants.Of(127));
        float[] torchScales = TorchInterop.ToArray(ts);
        float[] torchLevels = TorchInterop.ToArray(tq);
        float[] torchBack = TorchInterop.ToArray(tq * ts);

        Assert.Equal(torchScales, scales);
        Assert.Equal(torchLevels, q.Select(v => (float)v).ToArray());
        var back = new float[w.Length];
        Int8Linear.Dequantize(q, scales, back, inDim, outDim);
        Assert.Equal(torchBack, back);
    }

    [Fact]
    public void LowPrecisionLinear_MatchesTorchLinearOnStoredWeights()
    {
        // libtorch's float linear on the dequantized/widened weights is the same function as ours.
        TorchRuntime.Initialize();
        int n = 7, inDim = 96, outDim = 40;
        float[] x = Compare.Randn(n * inDim, 8);
        float[] w = Compare.Randn(outDim * inDim, 9, 0.1f);
        float[] b = Compare.Randn(outDim, 10);
        using var scope = NewDisposeScope();
        Tensor tx = TorchInterop.ToTensor(x, [n, inDim]);
        Tensor tb = TorchInterop.ToTensor(b, [outDim]);
        Tensor tw = TorchInterop.ToTensor(w, [outDim, inDim]);

        var y = new float[n * outDim];
        var h = new Half[w.Length];
        HalfConvert.ToHalf(w, h);
        HalfLinear.Forward(x, h, b, y, n, inDim, outDim);
        Compare.Close(y, TorchInterop.ToArray(nn.functional.linear(tx, tw.to_type(ScalarType.Float16).to_type(ScalarType.Float32), tb)), 1e-5, 0, "Half Linear vs libtorch");

        var bf = new ushort[w.Length];
        BFloat16Convert.ToBFloat16(w, bf);
        BFloat16Linear.Forward(x, bf, b, y, n, inDim, outDim);
        Compare.Close(y, TorchInterop.ToArray(nn.functional.linear(tx, tw.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32), tb)), 1e-5, 0, "bfloat16 Linear vs libtorch");

        var q = new sbyte[w.Length];
        var s = new float[outDim];
        Int8Linear.Quantize(w, q, s, inDim, outDim);
        Int8Linear.Forward(x, q, s, b, y, n, inDim, outDim);
        Tensor ts = tw.abs().amax([1], keepdim: true) / 127f;
        Tensor deq = (tw / ts).round().clamp(TorchConstants.Of(-127), TorchConstants.Of(127)) * ts;
        Compare.Close(y, TorchInterop.ToArray(nn.functional.linear(tx, deq, tb)), 1e-5, 0, "int8 Linear vs libtorch");
    }

    [Fact]
    public void Forward_NaNInInput_PropagatesToItsRow()
    {
        int n = 3, inDim = 20, outDim = 5;
        float[] x = Compare.Randn(n * inDim, 12);
        x[inDim + 4] = float.NaN;
        float[] w = Compare.Randn(outDim * inDim, 13);
        var h = new Half[w.Length];
        HalfConvert.ToHalf(w, h);
        var y = new float[n * outDim];
        HalfLinear.Forward(x, h, [], y, n, inDim, outDim);
        Assert.All(y.AsSpan(outDim, outDim).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(y.AsSpan(0, outDim).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void Forward_SteadyState_AllocatesNothing(int n)
    {
        // Small enough to stay on one thread whatever KernelThreads.Max is.
        int inDim = 40, outDim = 24;
        float[] x = Compare.Randn(n * inDim, 14), w = Compare.Randn(outDim * inDim, 15), b = Compare.Randn(outDim, 16);
        var y = new float[n * outDim];
        var h = new Half[w.Length];
        HalfConvert.ToHalf(w, h);
        var bf = new ushort[w.Length];
        BFloat16Convert.ToBFloat16(w, bf);
        var q = new sbyte[w.Length];
        var s = new float[outDim];
        Int8Linear.Quantize(w, q, s, inDim, outDim);
        void All()
        {
            HalfLinear.Forward(x, h, b, y, n, inDim, outDim);
            BFloat16Linear.Forward(x, bf, b, y, n, inDim, outDim);
            Int8Linear.Forward(x, q, s, b, y, n, inDim, outDim);
            HalfConvert.ToSingle(h, w);
            BFloat16Convert.ToBFloat16(w, bf);
        }

        All();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            All();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Forward_BadArguments_ThrowNamingThem()
    {
        var ex = Assert.Throws<ArgumentException>(() => HalfLinear.Forward(new float[6], new Half[5], [], new float[4], 2, 3, 2));
        Assert.Equal("w", ex.ParamName);
        Assert.Contains("O·I = 2·3", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => BFloat16Linear.Forward(new float[7], new ushort[6], [], new float[4], 2, 3, 2));
        Assert.Equal("x", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => BFloat16Linear.Forward(new float[6], new ushort[6], new float[3], new float[4], 2, 3, 2));
        Assert.Equal("b", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Int8Linear.Forward(new float[6], new sbyte[6], new float[1], [], new float[4], 2, 3, 2));
        Assert.Equal("scales", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => Int8Linear.Forward(new float[6], new sbyte[6], new float[2], [], new float[3], 2, 3, 2));
        Assert.Equal("y", ex.ParamName);
        var buffer = new float[16];
        ex = Assert.Throws<ArgumentException>(() => HalfLinear.Forward(buffer.AsSpan(0, 6), new Half[6], [], buffer.AsSpan(4, 4), 2, 3, 2));
        Assert.Equal("y", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Linear.Quantize(new float[6], new sbyte[6], new float[2], 0, 2));
        ex = Assert.Throws<ArgumentException>(() => BFloat16Convert.ToBFloat16(new float[5], new ushort[4]));
        Assert.Equal("destination", ex.ParamName);
    }

    /// <summary>The tests that set the thread cap, which run alone (<see cref="KernelThreadsSerial"/>).</summary>
    [Collection(KernelThreadsSerial.Name)]
    public sealed class OnSetThreadCounts
    {
        [Fact]
        public void Forward_TwoThreads_MatchesReference()
        {
            using var cap = ThreadCap.Set(2);
            foreach (Format f in Enum.GetValues<Format>())
            {
                FastMatchesReference(f, 32, 256, 520, bias: true, seed: 77);
            }
        }
    }
}
