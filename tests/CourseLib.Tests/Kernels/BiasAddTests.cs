using CourseLib.Kernels;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

public sealed class BiasAddTests
{
    [Fact]
    public void BiasAdd_EveryLengthUpTo67_MatchesReferenceExactly()
    {
        for (int c = 1; c <= 67; c++)
        {
            const int n = 3;
            float[] x = Compare.Randn(n * c, c), b = Compare.Randn(c, 100 + c);
            var fast = new float[n * c];
            var reference = new float[n * c];
            BiasAdd.Forward(x, b, fast, n, c);
            BiasAdd.ForwardReference(x, b, reference, n, c);
            // One float add per element, the same in both: bit for bit.
            Assert.Equal(reference, fast);
            Assert.Equal(x[c] + b[0], fast[c]);
        }
    }

    [Fact]
    public void BiasAdd_InPlace_SameAsSeparateOutput()
    {
        float[] x = Compare.Randn(5 * 33, 1), b = Compare.Randn(33, 2);
        var separate = new float[x.Length];
        BiasAdd.Forward(x, b, separate, 5, 33);
        BiasAdd.Forward(x, b, x, 5, 33);
        Assert.Equal(separate, x);
    }

    [Fact]
    public void BiasAdd_WrongBiasLength_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => BiasAdd.Forward(new float[6], new float[2], new float[6], 2, 3));
        Assert.Equal("bias", e.ParamName);
        Assert.Contains("C = 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BiasAdd_OutputShiftedOverInput_Throws()
    {
        var buffer = new float[10];
        var e = Assert.Throws<ArgumentException>(() => BiasAdd.Forward(buffer.AsSpan(0, 6), new float[3], buffer.AsSpan(1, 6), 2, 3));
        Assert.Equal("y", e.ParamName);
    }
}
