// How much accuracy each weight format costs on one Linear layer:
//
//   error(format) = max |y_format − y_fp32| / max |y_fp32|,   y = x·Wᵀ,  x ~ N(0, 1),  W ~ N(0, 1/I)
//
// W ~ N(0, 1/I) keeps y ~ N(0, 1) (the scale an initialised or normalised network sees), so the numbers read
// directly as "relative to a typical activation". y_fp32 is summed in double, so only the storage error shows.
namespace CourseLib.Kernels.LowPrecision;

/// <summary>Relative output error of the Half, bfloat16 and int8 Linear layers against float32 weights.</summary>
/// <param name="HalfWeights">max|y_half − y_fp32| / max|y_fp32|.</param>
/// <param name="BFloat16Weights">max|y_bf16 − y_fp32| / max|y_fp32|.</param>
/// <param name="Int8Weights">max|y_int8 − y_fp32| / max|y_fp32| (per-output-channel symmetric scales).</param>
public sealed record LowPrecisionErrorReport(double HalfWeights, double BFloat16Weights, double Int8Weights);

/// <summary>Measures what storing a Linear layer's weights in 16 or 8 bits does to its output.</summary>
public static class LowPrecisionError
{
    /// <summary>
    /// Runs one random layer (<paramref name="n"/> rows, <paramref name="inDim"/> → <paramref name="outDim"/>;
    /// defaults are an FFN's first layer at C = 256) through each format and reports the relative errors.
    /// </summary>
    /// <param name="n">Rows of x (tokens).</param>
    /// <param name="inDim">Input features I.</param>
    /// <param name="outDim">Output features O.</param>
    /// <param name="seed">Seed for x and W.</param>
    public static LowPrecisionErrorReport Measure(int n = 64, int inDim = 256, int outDim = 1024, int seed = 0)
    {
        Check.Positive(n, nameof(n));
        Check.Positive(inDim, nameof(inDim));
        Check.Positive(outDim, nameof(outDim));
        var rng = new Random(seed);
        float[] x = Gaussian(rng, n * inDim, 1.0);
        float[] w = Gaussian(rng, outDim * inDim, 1.0 / Math.Sqrt(inDim));
        var exact = new float[n * outDim];
        for (int row = 0; row < n; row++)
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = 0;
                for (int i = 0; i < inDim; i++)
                {
                    sum += (double)x[row * inDim + i] * w[o * inDim + i];
                }

                exact[row * outDim + o] = (float)sum;
            }
        }

        var y = new float[n * outDim];

        var half = new Half[w.Length];
        HalfConvert.ToHalf(w, half);
        HalfLinear.Forward(x, half, [], y, n, inDim, outDim);
        double halfError = RelativeError(y, exact);

        var bf16 = new ushort[w.Length];
        BFloat16Convert.ToBFloat16(w, bf16);
        BFloat16Linear.Forward(x, bf16, [], y, n, inDim, outDim);
        double bf16Error = RelativeError(y, exact);

        var q = new sbyte[w.Length];
        var scales = new float[outDim];
        Int8Linear.Quantize(w, q, scales, inDim, outDim);
        Int8Linear.Forward(x, q, scales, [], y, n, inDim, outDim);
        double int8Error = RelativeError(y, exact);

        return new LowPrecisionErrorReport(halfError, bf16Error, int8Error);
    }

    /// <summary>max|actual − expected| / max|expected| (0 when both are all zero).</summary>
    /// <param name="actual">Values to judge.</param>
    /// <param name="expected">Reference values, same length.</param>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Check.Length(actual.Length, expected.Length, nameof(actual), "expected.Length");
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)actual[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs((double)expected[i]));
        }

        return maxDiff == 0 ? 0 : maxDiff / maxRef;
    }

    private static float[] Gaussian(Random rng, int count, double std)
    {
        var a = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Box–Muller; 1 − U keeps the logarithm's argument in (0, 1].
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return a;
    }
}
