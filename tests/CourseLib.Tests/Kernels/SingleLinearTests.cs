using CourseLib.Kernels;
using CourseLib.Kernels.LowPrecision;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

public sealed class SingleLinearTests
{
    // Every path: N < 4 (widened in registers), 4 ≤ N < 64 (row blocks), N ≥ 64 (the packed GEMM), with inDim covering
    // the 16-wide tails and outDim not a multiple of the 16-row blocks.
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 37, 19)]
    [InlineData(2, 64, 48)]
    [InlineData(3, 100, 33)]
    [InlineData(5, 17, 70)]
    [InlineData(63, 96, 40)]
    [InlineData(64, 33, 17)]
    [InlineData(70, 130, 21)]
    public void SingleLinear_Forward_MatchesReference(int n, int inDim, int outDim)
    {
        float[] x = Compare.Randn(n * inDim, 1), w = Compare.Randn(outDim * inDim, 2), b = Compare.Randn(outDim, 3);
        foreach (float[] bias in new[] { b, Array.Empty<float>() })
        {
            var fast = new float[n * outDim];
            var reference = new float[n * outDim];
            SingleLinear.Forward(x, w, bias, fast, n, inDim, outDim);
            SingleLinear.ForwardReference(x, w, bias, reference, n, inDim, outDim);
            for (int i = 0; i < fast.Length; i++)
            {
                // Float sums of inDim terms of size ~1 against a double sum: a few ulps of √inDim.
                Assert.True(Math.Abs(fast[i] - reference[i]) <= 1e-5 * (1 + Math.Sqrt(inDim)), $"y[{i}] = {fast[i]}, reference {reference[i]} (N={n}, I={inDim}, O={outDim})");
            }
        }
    }

    [Fact]
    public void SingleLinear_Forward_AgreesWithLinearForward()
    {
        const int n = 2, inDim = 96, outDim = 50;
        float[] x = Compare.Randn(n * inDim, 4), w = Compare.Randn(outDim * inDim, 5), b = Compare.Randn(outDim, 6);
        var ours = new float[n * outDim];
        var linear = new float[n * outDim];
        SingleLinear.Forward(x, w, b, ours, n, inDim, outDim);
        Linear.Forward(x, w, b, linear, n, inDim, outDim);
        Assert.All(ours.Zip(linear), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public void SingleLinear_WrongWeightLength_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => SingleLinear.Forward(new float[4], new float[7], [], new float[2], 1, 4, 2));
        Assert.Equal("w", e.ParamName);
        Assert.Contains("O·I", e.Message, StringComparison.Ordinal);
    }
}
