using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances: the fast path's exp polynomial is accurate to ~2 float ulps and its sums are float; the reference is
// double: 1e-5 relative to the row's largest probability + 1e-7 absolute. Finite differences through the float
// kernel: 2e-3 relative + 1e-4 absolute (probabilities and their gradients are ≤ 1). libtorch: 1e-5 relative.
public class SoftmaxTests
{
    [Fact]
    public void ForwardBackward_EveryCAndOddRows_MatchReference()
    {
        for (int c = 1; c <= 256; c++)
        {
            foreach (int n in OddRows)
            {
                float[] x = Randn(n * c, c * 10 + n, 3f), dy = Randn(n * c, c + 3000 + n);
                float[] y = new float[n * c], y0 = new float[n * c];
                Softmax.Forward(x, y, n, c);
                Softmax.ForwardReference(x, y0, n, c);
                Compare.Close(y, y0, 1e-5, 1e-7, $"y n={n} c={c}");
                float[] dx = Randn(n * c, 1), dx0 = (float[])dx.Clone();
                Softmax.Backward(dy, y0, dx, n, c);
                Softmax.BackwardReference(dy, y0, dx0, n, c);
                Compare.Close(dx, dx0, 1e-5, 1e-6, $"dx n={n} c={c}");
            }
        }
    }

    [Fact]
    public void ForwardBackward_LargeThreadedShape_MatchReference()
    {
        // 600 000 floats: past the cache-sized limit, so the rows go one at a time and the backward pass prefetches.
        const int n = 600, c = 1000;
        float[] x = Randn(n * c, 8, 4f), dy = Randn(n * c, 9);
        float[] y = new float[n * c], y0 = new float[n * c], dx = new float[n * c], dx0 = new float[n * c];
        Softmax.Forward(x, y, n, c);
        Softmax.ForwardReference(x, y0, n, c);
        Compare.Close(y, y0, 1e-5, 1e-7, "y");
        Softmax.Backward(dy, y, dx, n, c);
        Softmax.BackwardReference(dy, y, dx0, n, c);
        Compare.Close(dx, dx0, 1e-5, 1e-6, "dx");
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(2, 37)]
    public void Backward_MatchesFiniteDifferences(int n, int c)
    {
        float[] x = Randn(n * c, 17, 2f), w = Randn(n * c, 18);
        float[] y = new float[n * c];
        double Loss()
        {
            Softmax.Forward(x, y, n, c);
            return Dot(y, w);
        }

        Loss();
        float[] dx = new float[n * c];
        Softmax.Backward(w, y, dx, n, c);
        Compare.Close(dx, GradientChecker.Numerical(x, Loss), 2e-3, 1e-4, "dx vs finite differences");
    }

    [Theory]
    [InlineData(7, 45)]
    [InlineData(64, 768)]
    public void ForwardBackward_SameInputs_MatchTorch(int n, int c)
    {
        float[] x = Randn(n * c, 27, 3f), w = Randn(n * c, 28);
        float[] y = new float[n * c], dx = new float[n * c];
        Softmax.Forward(x, y, n, c);
        Softmax.Backward(w, y, dx, n, c);

        using var scope = Scope();
        var tx = T(x, new long[] { n, c }, grad: true);
        var ty = torch.nn.functional.softmax(tx, -1);
        (ty * T(w, new long[] { n, c })).sum().backward();
        Compare.Close(y, Torch.TorchInterop.ToArray(ty), 1e-5, 0, "y vs torch");
        Compare.Close(dx, Grad(tx), 1e-5, 1e-7, "dx vs torch");
    }

    [Fact]
    public void Forward_HugeLogits_NoOverflowAndShiftInvariant()
    {
        const int n = 2, c = 40;
        float[] x = Randn(n * c, 37, 3f), big = x.Select(v => v + 1000f).ToArray();
        float[] y = new float[n * c], yBig = new float[n * c];
        Softmax.Forward(x, y, n, c);
        Softmax.Forward(big, yBig, n, c);
        Assert.All(yBig, v => Assert.True(float.IsFinite(v)));
        // x + 1000 is rounded to a float ulp of 6e-5, which moves each probability by that relative amount.
        Compare.Close(yBig, y, 2e-4, 1e-7, "softmax(x + 1000) vs softmax(x)");
        for (int row = 0; row < n; row++)
        {
            Assert.Equal(1.0, y.AsSpan(row * c, c).ToArray().Sum(v => (double)v), 5);
        }
    }

    [Fact]
    public void Forward_NaNOrInfinityInRow_RowBecomesNaNOthersFinite()
    {
        const int n = 3, c = 40;
        float[] x = Randn(n * c, 38);
        x[3] = float.NaN;
        x[c + 20] = float.PositiveInfinity;
        x[2 * c + 7] = float.NegativeInfinity;
        float[] y = new float[n * c];
        Softmax.Forward(x, y, n, c);
        Assert.All(y.AsSpan(0, 2 * c).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(0f, y[2 * c + 7]);
        Assert.All(y.AsSpan(2 * c, c).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Forward_SpecialValuesInFourRowBlocks_SameAsOneRowAtATime()
    {
        // Rows go through the four-rows-at-once path in blocks of 4 and one at a time after that; special values
        // in every position of a block, including the masked tail vector (c = 40 = 2·16 + 8), must come out alike.
        const int n = 8, c = 40;
        float[] x = Randn(n * c, 39);
        x[3] = float.NaN;                                  // row 0: NaN in the first vector
        x[c + 37] = float.NaN;                             // row 1: NaN in the masked tail
        x[2 * c + 20] = float.PositiveInfinity;            // row 2: +∞
        Array.Fill(x, float.NegativeInfinity, 3 * c, c);   // row 3: all −∞
        x[4 * c + 39] = float.NegativeInfinity;            // row 4: one −∞ in the tail
        x[5 * c + 39] = float.PositiveInfinity;            // row 5: +∞ in the tail
        float[] y = new float[n * c];
        Softmax.Forward(x, y, n, c);
        for (int row = 0; row < n; row++)
        {
            float[] alone = new float[c];
            Softmax.Forward(x.AsSpan(row * c, c), alone, 1, c);
            float[] got = y.AsSpan(row * c, c).ToArray();
            Assert.Equal(alone.Select(float.IsNaN), got.Select(float.IsNaN));
            Compare.Close(got.Where(v => !float.IsNaN(v)).ToArray(), alone.Where(v => !float.IsNaN(v)).ToArray(), 1e-6, 0, $"row {row}");
        }

        Assert.All(new[] { 0, 1, 2, 3, 5 }, row => Assert.All(y.AsSpan(row * c, c).ToArray(), v => Assert.True(float.IsNaN(v), $"row {row} should be NaN")));
        Assert.Equal(0f, y[4 * c + 39]);
        Assert.All(y.AsSpan(6 * c, 2 * c).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ForwardBackward_BadArguments_ThrowNamingTheArgument()
    {
        float[] x = new float[12], y = new float[12], dx = new float[12];
        Assert.Equal("c", Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.Forward(x, y, 3, 0)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Softmax.Forward(x, y, 3, 5)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Softmax.Forward(x, new float[11], 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Softmax.Forward(x.AsSpan(0, 8), x.AsSpan(2), 2, 4)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Softmax.Backward(new float[3], y, dx, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Softmax.Backward(x, y, y, 3, 4)).ParamName);
    }
}
