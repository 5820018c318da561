// Weight-only int8 quantization with one scale per output channel (row of W), symmetric (no zero point):
//
//   scale_o = max_i |W[o, i]| / 127                (0 for an all-zero row)
//   q[o, i] = clamp(round(W[o, i] / scale_o), −127, 127)     round half to even, as torch.round
//   Ŵ[o, i] = q[o, i] · scale_o                     |Ŵ − W| ≤ scale_o / 2 per element
//
// Forward: y[N, O] = x[N, I]·Ŵᵀ + b, activations float, accumulation float. For N < 4 the levels are widened
// in registers and each dot product is multiplied by scale_o once at the end; otherwise blocks of rows are
// dequantised into a float buffer (see BlockedLinear). The weights cost a quarter of float32's bytes to read.
// NaN in a row of W makes that row's scale NaN, so its outputs are NaN rather than silently wrong.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CourseLib.Kernels.LowPrecision;

/// <summary>
/// int8 weight-only quantized Linear: per-output-channel symmetric scales, float activations and accumulation.
/// Quantize once with <see cref="Quantize"/>, then call <see cref="Forward"/> as often as needed.
/// </summary>
public static class Int8Linear
{
    /// <summary>Largest quantized magnitude; −128 is left unused so the grid is symmetric.</summary>
    public const int MaxLevel = 127;

    /// <summary>Quantizes W[O, I] into <paramref name="q"/>[O, I] and <paramref name="scales"/>[O].</summary>
    /// <param name="w">Float weight [O, I].</param>
    /// <param name="q">Destination for the int8 levels, [O, I].</param>
    /// <param name="scales">Destination for the per-row scales, [O].</param>
    /// <param name="inDim">Input features I (row length).</param>
    /// <param name="outDim">Output features O (rows).</param>
    public static void Quantize(ReadOnlySpan<float> w, Span<sbyte> q, Span<float> scales, int inDim, int outDim)
    {
        ValidateQuantize(w, q, scales, inDim, outDim);
        var levels = new float[inDim];
        for (int o = 0; o < outDim; o++)
        {
            ReadOnlySpan<float> row = w.Slice(o * inDim, inDim);
            float scale = Math.Abs(TensorPrimitives.MaxMagnitude(row)) / MaxLevel;
            scales[o] = scale;
            Span<sbyte> qRow = q.Slice(o * inDim, inDim);
            if (scale == 0f)
            {
                qRow.Clear();
                continue;
            }

            TensorPrimitives.Divide(row, scale, levels);
            TensorPrimitives.Round(levels, levels);
            TensorPrimitives.Min(levels, MaxLevel, levels);
            TensorPrimitives.Max(levels, -MaxLevel, levels);
            for (int i = 0; i < inDim; i++)
            {
                qRow[i] = (sbyte)levels[i];
            }
        }
    }

    /// <summary>Reference for <see cref="Quantize"/>: the formulas above, one element at a time.</summary>
    /// <param name="w">Float weight [O, I].</param>
    /// <param name="q">Destination for the int8 levels, [O, I].</param>
    /// <param name="scales">Destination for the per-row scales, [O].</param>
    /// <param name="inDim">Input features I (row length).</param>
    /// <param name="outDim">Output features O (rows).</param>
    public static void QuantizeReference(ReadOnlySpan<float> w, Span<sbyte> q, Span<float> scales, int inDim, int outDim)
    {
        ValidateQuantize(w, q, scales, inDim, outDim);
        for (int o = 0; o < outDim; o++)
        {
            float max = 0f;
            for (int i = 0; i < inDim; i++)
            {
                max = MathF.Max(max, MathF.Abs(w[o * inDim + i]));
            }

            float scale = max / MaxLevel;
            scales[o] = scale;
            for (int i = 0; i < inDim; i++)
            {
                float level = scale == 0f ? 0f : MathF.Round(w[o * inDim + i] / scale, MidpointRounding.ToEven);
                q[o * inDim + i] = (sbyte)Math.Clamp(level, -MaxLevel, MaxLevel);
            }
        }
    }

    /// <summary>Ŵ[o, i] = q[o, i]·scale_o: the float weight the quantized one stands for.</summary>
    /// <param name="q">int8 levels [O, I].</param>
    /// <param name="scales">Per-row scales [O].</param>
    /// <param name="w">Destination [O, I].</param>
    /// <param name="inDim">Input features I (row length).</param>
    /// <param name="outDim">Output features O (rows).</param>
    public static void Dequantize(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, Span<float> w, int inDim, int outDim)
    {
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
        LowPrecisionChecks.Length(q.Length, (long)outDim * inDim, nameof(q), "O·I", outDim, inDim);
        LowPrecisionChecks.Length(scales.Length, outDim, nameof(scales), "O", outDim);
        LowPrecisionChecks.Destination(w.Length, (long)outDim * inDim, nameof(w), "O·I", outDim, inDim);
        for (int o = 0; o < outDim; o++)
        {
            DequantizeRow(q.Slice(o * inDim, inDim), scales[o], w.Slice(o * inDim, inDim));
        }
    }

    /// <summary>Fast forward: writes <paramref name="y"/>[N, O] = x·Ŵᵀ + b.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="q">int8 levels [O, I] from <see cref="Quantize"/>.</param>
    /// <param name="scales">Per-row scales [O] from <see cref="Quantize"/>.</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static unsafe void Forward(ReadOnlySpan<float> x, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, q.Length, nameof(q), b, y, n, inDim, outDim);
        LowPrecisionChecks.Length(scales.Length, outDim, nameof(scales), "O", outDim);
        Check.NoOverlap(scales, nameof(scales), y, nameof(y));
        fixed (sbyte* pq = q)
        fixed (float* ps = scales)
        {
            BlockedLinear.Forward(new Decoder(pq, ps, inDim), x, b, y, n, inDim, outDim);
        }
    }

    /// <summary>Reference forward: each weight dequantized as it is used (q·scale in float), sums in double.</summary>
    /// <param name="x">Input [N, I].</param>
    /// <param name="q">int8 levels [O, I].</param>
    /// <param name="scales">Per-row scales [O].</param>
    /// <param name="b">Bias [O], or empty for none.</param>
    /// <param name="y">Destination [N, O].</param>
    /// <param name="n">Rows N.</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    public static void ForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, ReadOnlySpan<float> b, Span<float> y, int n, int inDim, int outDim)
    {
        LowPrecisionChecks.Linear(x, q.Length, nameof(q), b, y, n, inDim, outDim);
        LowPrecisionChecks.Length(scales.Length, outDim, nameof(scales), "O", outDim);
        for (int row = 0; row < n; row++)
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = b.IsEmpty ? 0 : b[o];
                for (int i = 0; i < inDim; i++)
                {
                    sum += (double)x[row * inDim + i] * (q[o * inDim + i] * scales[o]);
                }

                y[row * outDim + o] = (float)sum;
            }
        }
    }

    private static void ValidateQuantize(ReadOnlySpan<float> w, Span<sbyte> q, Span<float> scales, int inDim, int outDim)
    {
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
        LowPrecisionChecks.Length(w.Length, (long)outDim * inDim, nameof(w), "O·I", outDim, inDim);
        LowPrecisionChecks.Destination(q.Length, (long)outDim * inDim, nameof(q), "O·I", outDim, inDim);
        LowPrecisionChecks.Destination(scales.Length, outDim, nameof(scales), "O", outDim);
        Check.NoOverlap(w, nameof(w), scales, nameof(scales));
    }

    private static void DequantizeRow(ReadOnlySpan<sbyte> q, float scale, Span<float> w)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            for (; i + 64 <= q.Length; i += 64)
            {
                var bytes = Vector512.Create(q.Slice(i, 64));
                var lo = Vector512.WidenLower(bytes);
                var hi = Vector512.WidenUpper(bytes);
                (Vector512.ConvertToSingle(Vector512.WidenLower(lo)) * s).CopyTo(w.Slice(i, 16));
                (Vector512.ConvertToSingle(Vector512.WidenUpper(lo)) * s).CopyTo(w.Slice(i + 16, 16));
                (Vector512.ConvertToSingle(Vector512.WidenLower(hi)) * s).CopyTo(w.Slice(i + 32, 16));
                (Vector512.ConvertToSingle(Vector512.WidenUpper(hi)) * s).CopyTo(w.Slice(i + 48, 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            for (; i + 32 <= q.Length; i += 32)
            {
                var bytes = Vector256.Create(q.Slice(i, 32));
                var lo = Vector256.WidenLower(bytes);
                var hi = Vector256.WidenUpper(bytes);
                (Vector256.ConvertToSingle(Vector256.WidenLower(lo)) * s).CopyTo(w.Slice(i, 8));
                (Vector256.ConvertToSingle(Vector256.WidenUpper(lo)) * s).CopyTo(w.Slice(i + 8, 8));
                (Vector256.ConvertToSingle(Vector256.WidenLower(hi)) * s).CopyTo(w.Slice(i + 16, 8));
                (Vector256.ConvertToSingle(Vector256.WidenUpper(hi)) * s).CopyTo(w.Slice(i + 24, 8));
            }
        }

        for (; i < q.Length; i++)
        {
            w[i] = q[i] * scale;
        }
    }

    private readonly unsafe struct Decoder(sbyte* q, float* scales, int inDim) : IRowDecoder
    {
        public void Decode(int row, Span<float> destination) =>
            DequantizeRow(new ReadOnlySpan<sbyte>(q + (long)row * inDim, inDim), scales[row], destination);

        // The levels only; the fused path multiplies the finished dot product by the row's scale once.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Load16(int row, int k) =>
            Vector512.ConvertToSingle(Vector512.WidenLower(Vector512.WidenLower(Vector128.Load(q + (long)row * inDim + k).ToVector256Unsafe().ToVector512Unsafe())));

        public float Get(int row, int k) => q[(long)row * inDim + k];

        public float RowScale(int row) => scales[row];
    }
}
