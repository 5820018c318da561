using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Dropout is exact arithmetic on a mask that is a pure function of (seed, index), so the fast path must equal the
// reference bit for bit. There is no libtorch comparison: torch's generator draws different masks; instead the
// statistical facts (drop rate ≈ p, E[y] ≈ x) are tested on a million elements (6σ bounds).
public class DropoutTests
{
    [Fact]
    public void ForwardBackward_EveryLength_EqualReferenceBitForBit()
    {
        for (int len = 1; len <= 256; len++)
        {
            foreach (float p in new[] { 0.1f, 0.5f })
            {
                float[] x = Randn(len, len), y = new float[len], y0 = new float[len];
                byte[] m = new byte[len], m0 = new byte[len];
                Dropout.Forward(x, y, m, p, 1234);
                Dropout.ForwardReference(x, y0, m0, p, 1234);
                Assert.Equal(m0, m);
                Assert.Equal(y0, y);
                float[] dy = Randn(len, len + 1), dx = Randn(len, 2), dx0 = (float[])dx.Clone();
                Dropout.Backward(dy, m, dx, p);
                Dropout.BackwardReference(dy, m0, dx0, p);
                Assert.Equal(dx0, dx);
            }
        }
    }

    [Fact]
    public void Forward_MillionElementsThreaded_EqualsReferenceAndDropsP()
    {
        const int len = 1 << 20;
        const float p = 0.3f;
        float[] x = Enumerable.Repeat(1f, len).ToArray(), y = new float[len], y0 = new float[len];
        byte[] m = new byte[len], m0 = new byte[len];
        Dropout.Forward(x, y, m, p, 42);
        Dropout.ForwardReference(x, y0, m0, p, 42);
        Assert.Equal(m0, m);
        Assert.Equal(y0, y);
        double dropped = m.Count(b => b == 0) / (double)len;
        double sigma = Math.Sqrt(p * (1 - p) / len);
        Assert.True(Math.Abs(dropped - p) < 6 * sigma, $"dropped fraction {dropped}, expected {p} ± {6 * sigma}");
        double mean = y.Average(v => (double)v);
        Assert.True(Math.Abs(mean - 1) < 6 * sigma / (1 - p), $"mean of y = {mean}, expected 1 (inverted scaling)");
        Assert.All(y, v => Assert.True(v == 0f || v == 1f / (1f - p)));
    }

    [Fact]
    public void Forward_Seeds_SameSeedSameMaskOtherSeedOtherMask()
    {
        const int len = 1000;
        float[] x = Randn(len, 1), y = new float[len];
        byte[] a = new byte[len], b = new byte[len], c = new byte[len];
        Dropout.Forward(x, y, a, 0.5f, 7);
        Dropout.Forward(x, y, b, 0.5f, 7);
        Dropout.Forward(x, y, c, 0.5f, 8);
        Assert.Equal(a, b);
        int agree = a.Zip(c, (u, v) => u == v ? 1 : 0).Sum();
        // Independent masks agree on about half the elements (500 ± 16 for one σ).
        Assert.InRange(agree, 400, 600);
    }

    [Fact]
    public void Forward_PZero_Identity()
    {
        float[] x = Randn(300, 3), y = new float[300];
        byte[] m = new byte[300];
        Dropout.Forward(x, y, m, 0f, 99);
        Assert.Equal(x, y);
        Assert.All(m, b => Assert.Equal(1, b));
    }

    [Fact]
    public void Backward_MatchesFiniteDifferences()
    {
        const int len = 37;
        const float p = 0.4f;
        float[] x = Randn(len, 4), w = Randn(len, 5), y = new float[len];
        byte[] m = new byte[len];
        double Loss()
        {
            Dropout.Forward(x, y, m, p, 5);
            return Dot(y, w);
        }

        Loss();
        float[] dx = new float[len];
        Dropout.Backward(w, m, dx, p);
        Compare.Close(dx, GradientChecker.Numerical(x, Loss), 2e-3, 2e-4, "dx vs finite differences");
    }

    [Fact]
    public void Forward_NaNKeptPropagatesDroppedIsZero()
    {
        float[] x = Enumerable.Repeat(float.NaN, 64).ToArray(), y = new float[64];
        byte[] m = new byte[64];
        Dropout.Forward(x, y, m, 0.5f, 11);
        for (int i = 0; i < 64; i++)
        {
            Assert.True(m[i] == 1 ? float.IsNaN(y[i]) : y[i] == 0f, $"element {i}: mask {m[i]}, y {y[i]}");
        }
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void ForwardBackward_BadP_ThrowsNamingP(float p)
    {
        float[] x = new float[4], y = new float[4];
        byte[] m = new byte[4];
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Forward(x, y, m, p, 1)).ParamName);
        Assert.Equal("p", Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Backward(x, m, y, p)).ParamName);
    }

    [Fact]
    public void ForwardBackward_BadBuffers_ThrowNamingTheArgument()
    {
        float[] x = new float[8], y = new float[8];
        byte[] m = new byte[8];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Dropout.Forward(x, new float[7], m, 0.1f, 1)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Dropout.Forward(x, y, new byte[7], 0.1f, 1)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Dropout.Forward(x, x, m, 0.1f, 1)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Dropout.Backward(x, new byte[3], y, 0.1f)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Dropout.Backward(x, m, x, 0.1f)).ParamName);
    }
}
