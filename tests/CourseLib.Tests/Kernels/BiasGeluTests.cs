using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// y = GELU(x + b). Tolerances: 1e-6·max|ref| + 1e-9 against the double reference and libtorch (dbias summed in double
/// on our side), 1e-4·max|ref| + 1e-5 against central differences.
/// </summary>
public class BiasGeluTests
{
    public static TheoryData<GeluApproximation, bool> Cases => new()
    {
        { GeluApproximation.None, true }, { GeluApproximation.None, false }, { GeluApproximation.Tanh, true }, { GeluApproximation.Tanh, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BiasGelu_FastVsReferenceEveryWidth1To256_Match(GeluApproximation form, bool wide)
    {
        const int n = 3;
        for (int c = 1; c <= 256; c++)
        {
            float[] x = ActivationTorch.Spread(n * c, c), b = Compare.Randn(c, c + 1), dy = Compare.Randn(n * c, c + 2);
            var y = new float[n * c];
            var yRef = new float[n * c];
            if (form == GeluApproximation.None)
            {
                BiasGelu.ForwardFast<GeluErfOp>(x, b, y, n, c, wide);
            }
            else
            {
                BiasGelu.ForwardFast<GeluTanhOp>(x, b, y, n, c, wide);
            }

            BiasGelu.ForwardReference(x, b, yRef, n, c, form);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"bias+GELU {form} forward, C = {c}, wide = {wide}");

            float[] dx = Compare.Randn(n * c, c + 3), db = Compare.Randn(c, c + 4);
            float[] dxRef = (float[])dx.Clone(), dbRef = (float[])db.Clone();
            if (form == GeluApproximation.None)
            {
                BiasGelu.BackwardFast<GeluErfOp>(dy, x, b, dx, db, n, c, wide);
            }
            else
            {
                BiasGelu.BackwardFast<GeluTanhOp>(dy, x, b, dx, db, n, c, wide);
            }

            BiasGelu.BackwardReference(dy, x, b, dxRef, dbRef, n, c, form);
            Compare.Close(dx, dxRef, 1e-6, 1e-9, $"bias+GELU {form} dx, C = {c}, wide = {wide}");
            Compare.Close(db, dbRef, 1e-6, 1e-9, $"bias+GELU {form} dbias, C = {c}, wide = {wide}");
        }
    }

    [Fact]
    public void BiasGelu_MultiThreadedShapes_MatchReference()
    {
        const int n = 600, c = 300;
        float[] x = ActivationTorch.Spread(n * c, 1), b = Compare.Randn(c, 2), dy = Compare.Randn(n * c, 3);
        var y = new float[n * c];
        var yRef = new float[n * c];
        BiasGelu.Forward(x, b, y, n, c);
        BiasGelu.ForwardReference(x, b, yRef, n, c);
        Compare.Close(y, yRef, 1e-6, 1e-9, "bias+GELU forward, threaded");
        var dx = new float[n * c];
        var dxRef = new float[n * c];
        var db = new float[c];
        var dbRef = new float[c];
        BiasGelu.Backward(dy, x, b, dx, db, n, c);
        BiasGelu.BackwardReference(dy, x, b, dxRef, dbRef, n, c);
        Compare.Close(dx, dxRef, 1e-6, 1e-9, "bias+GELU dx, threaded");
        Compare.Close(db, dbRef, 1e-6, 1e-9, "bias+GELU dbias, threaded");
    }

    [Fact]
    public void BiasGelu_EqualsBiasAddThenGelu()
    {
        const int n = 4, c = 50;
        float[] x = ActivationTorch.Spread(n * c, 4), b = Compare.Randn(c, 5);
        var fused = new float[n * c];
        BiasGelu.Forward(x, b, fused, n, c);
        var sum = new float[n * c];
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] = x[i] + b[i % c];
        }

        var twoPass = new float[n * c];
        Gelu.Forward(sum, twoPass);
        Assert.Equal(twoPass, fused);
    }

    [Theory]
    [InlineData(GeluApproximation.None)]
    [InlineData(GeluApproximation.Tanh)]
    public void BiasGelu_GradientsVsFiniteDifferences_Match(GeluApproximation form)
    {
        const int n = 5, c = 13;
        float[] x = Compare.Randn(n * c, 6), b = Compare.Randn(c, 7), g = Compare.Randn(n * c, 8);
        var y = new float[n * c];
        double Loss()
        {
            BiasGelu.Forward(x, b, y, n, c, form);
            return ReluSiluTests.Dot(y, g);
        }

        var dx = new float[n * c];
        var db = new float[c];
        BiasGelu.Backward(g, x, b, dx, db, n, c, form);
        Compare.Close(dx, GradientChecker.Numerical(x, Loss), 1e-4, 1e-5, $"bias+GELU {form} dx vs central differences");
        Compare.Close(db, GradientChecker.Numerical(b, Loss), 1e-4, 1e-5, $"bias+GELU {form} dbias vs central differences");
    }

    [Theory]
    [InlineData(GeluApproximation.None)]
    [InlineData(GeluApproximation.Tanh)]
    public void BiasGelu_VsTorch_ForwardAndGradientsMatch(GeluApproximation form)
    {
        const int n = 11, c = 70;
        float[] x = ActivationTorch.Spread(n * c, 9), b = Compare.Randn(c, 10), g = Compare.Randn(n * c, 11);
        var (yT, gradT) = ActivationTorch.Run(t => ActivationTorch.Gelu(t[0] + t[1], form == GeluApproximation.None), g,
            (x, new long[] { n, c }), (b, new long[] { c }));
        var y = new float[n * c];
        var dx = new float[n * c];
        var db = new float[c];
        BiasGelu.Forward(x, b, y, n, c, form);
        BiasGelu.Backward(g, x, b, dx, db, n, c, form);
        Compare.Close(y, yT, 1e-6, 1e-9, $"bias+GELU {form} forward vs torch");
        Compare.Close(dx, gradT[0], 1e-6, 1e-9, $"bias+GELU {form} dx vs torch");
        Compare.Close(db, gradT[1], 1e-6, 1e-9, $"bias+GELU {form} dbias vs torch");
    }

    [Fact]
    public void BiasGelu_EmptyGradients_AreSkipped()
    {
        const int n = 3, c = 21;
        float[] x = ActivationTorch.Spread(n * c, 12), b = Compare.Randn(c, 13), g = Compare.Randn(n * c, 14);
        var dx = new float[n * c];
        var db = new float[c];
        BiasGelu.Backward(g, x, b, dx, db, n, c);
        var dxOnly = new float[n * c];
        var dbOnly = new float[c];
        BiasGelu.Backward(g, x, b, dxOnly, default, n, c);
        BiasGelu.Backward(g, x, b, default, dbOnly, n, c);
        Assert.Equal(dx, dxOnly);
        Assert.Equal(db, dbOnly);
    }

    [Fact]
    public void BiasGelu_BadInput_ThrowsNamingArgument()
    {
        float[] x = new float[12], b = new float[4];
        var y = Enumerable.Repeat(2f, 12).ToArray();
        var e = Assert.Throws<ArgumentException>(() => BiasGelu.Forward(x, new float[5], y, 3, 4));
        Assert.Equal("bias", e.ParamName);
        Assert.Contains("5", e.Message, StringComparison.Ordinal);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => BiasGelu.Forward(x, b, y, -3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => BiasGelu.Forward(x, b, new float[11], 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => BiasGelu.Forward(x.AsSpan(0, 4), b, b, 1, 4)).ParamName);
        Assert.All(y, v => Assert.Equal(2f, v));
        Assert.Equal("dbias", Assert.Throws<ArgumentException>(() => BiasGelu.Backward(new float[12], x, b, new float[12], b, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => BiasGelu.Backward(new float[12], x, b, x, default, 3, 4)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => BiasGelu.Backward(new float[10], x, b, new float[12], default, 3, 4)).ParamName);
    }
}
