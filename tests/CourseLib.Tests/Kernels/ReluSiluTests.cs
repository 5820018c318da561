using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using static TorchSharp.torch;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// ReLU and SiLU, same tolerances as GeluTests: fast vs reference and vs libtorch 1e-6·max|ref| + 1e-9 (ReLU is
/// exact: compared bit for bit with the reference), central differences 1e-4·max|ref| + 1e-5.
/// </summary>
public class ReluSiluTests
{
    [Fact]
    public void Relu_FastVsReferenceEveryLength1To256_Identical()
    {
        for (int len = 1; len <= 256; len++)
        {
            float[] x = ActivationTorch.Spread(len, len), dy = Compare.Randn(len, 1000 + len);
            x[0] = 0f;
            var y = new float[len];
            var yRef = new float[len];
            Relu.Forward(x, y);
            Relu.ForwardReference(x, yRef);
            Assert.Equal(yRef, y);
            float[] dx = Compare.Randn(len, 2000 + len), dxRef = (float[])dx.Clone();
            Relu.Backward(dy, x, dx);
            Relu.BackwardReference(dy, x, dxRef);
            Assert.Equal(dxRef, dx);

            var y256 = new float[len];
            float[] dx256 = Compare.Randn(len, 2000 + len);
            Elementwise.ForwardRange<ReluOp>(x, y256, wide: false);
            Elementwise.BackwardRange<ReluOp>(dy, x, dx256, wide: false);
            Assert.Equal(yRef, y256);
            Assert.Equal(dxRef, dx256);
        }
    }

    [Fact]
    public void Relu_SlopeAtZero_IsZeroAsTorch()
    {
        float[] x = { 0f, -0f, 1e-30f, -1e-30f };
        var dx = new float[4];
        Relu.Backward(new float[] { 1, 1, 1, 1 }, x, dx);
        Assert.Equal(new float[] { 0, 0, 1, 0 }, dx);
        var (_, grads) = ActivationTorch.Run(t => nn.functional.relu(t[0]), new float[] { 1, 1, 1, 1 }, (x, new long[] { 4 }));
        Assert.Equal(grads[0], dx);
    }

    [Fact]
    public void Relu_VsTorch_ForwardGradientAndSpecialValuesMatch()
    {
        float[] x = ActivationTorch.Spread(999, 5);
        x[1] = float.NaN;
        x[2] = float.PositiveInfinity;
        x[3] = float.NegativeInfinity;
        float[] g = Compare.Randn(999, 6);
        var (yT, gradT) = ActivationTorch.Run(t => nn.functional.relu(t[0]), g, (x, new long[] { 999 }));
        var y = new float[999];
        var dx = new float[999];
        Relu.Forward(x, y);
        Relu.Backward(g, x, dx);
        Assert.Equal(yT, y);     // NaN equals NaN in xunit's float comparison
        Assert.Equal(gradT[0], dx);
    }

    [Fact]
    public void Relu_GradientVsFiniteDifferences_Match()
    {
        float[] x = ActivationTorch.AwayFromZero(ActivationTorch.Spread(64, 9)), g = Compare.Randn(64, 10);
        var y = new float[64];
        double[] numeric = GradientChecker.Numerical(x, () => { Relu.Forward(x, y); return Dot(y, g); });
        var dx = new float[64];
        Relu.Backward(g, x, dx);
        Compare.Close(dx, numeric, 1e-4, 1e-5, "ReLU dx vs central differences");
    }

    [Fact]
    public void Silu_FastVsReferenceEveryLength1To256_Match()
    {
        for (int len = 1; len <= 256; len++)
        {
            float[] x = ActivationTorch.Spread(len, 3000 + len), dy = Compare.Randn(len, 4000 + len);
            var y = new float[len];
            var yRef = new float[len];
            Silu.Forward(x, y);
            Silu.ForwardReference(x, yRef);
            Compare.Close(y, yRef, 1e-6, 1e-9, $"SiLU forward, length {len}");
            float[] dx = Compare.Randn(len, 5000 + len), dxRef = (float[])dx.Clone();
            Silu.Backward(dy, x, dx);
            Silu.BackwardReference(dy, x, dxRef);
            Compare.Close(dx, dxRef, 1e-6, 1e-9, $"SiLU backward, length {len}");

            var y256 = new float[len];
            float[] dx256 = Compare.Randn(len, 5000 + len);
            Elementwise.ForwardRange<SiluOp>(x, y256, wide: false);
            Elementwise.BackwardRange<SiluOp>(dy, x, dx256, wide: false);
            Compare.Close(y256, yRef, 1e-6, 1e-9, $"SiLU Vector256 forward, length {len}");
            Compare.Close(dx256, dxRef, 1e-6, 1e-9, $"SiLU Vector256 backward, length {len}");
        }
    }

    [Fact]
    public void Silu_MultiThreadedLength_MatchesReference()
    {
        int len = 2 * Elementwise.MinPerThread + 5;
        float[] x = ActivationTorch.Spread(len, 1), dy = Compare.Randn(len, 2);
        var y = new float[len];
        var yRef = new float[len];
        Silu.Forward(x, y);
        Silu.ForwardReference(x, yRef);
        Compare.Close(y, yRef, 1e-6, 1e-9, "SiLU forward, threaded");
        var dx = new float[len];
        var dxRef = new float[len];
        Silu.Backward(dy, x, dx);
        Silu.BackwardReference(dy, x, dxRef);
        Compare.Close(dx, dxRef, 1e-6, 1e-9, "SiLU backward, threaded");
    }

    [Fact]
    public void Silu_GradientVsFiniteDifferences_Match()
    {
        float[] x = ActivationTorch.Spread(64, 13), g = Compare.Randn(64, 14);
        var y = new float[64];
        double[] numeric = GradientChecker.Numerical(x, () => { Silu.Forward(x, y); return Dot(y, g); });
        var dx = new float[64];
        Silu.Backward(g, x, dx);
        Compare.Close(dx, numeric, 1e-4, 1e-5, "SiLU dx vs central differences");
    }

    [Fact]
    public void Silu_VsTorch_ForwardAndGradientMatch()
    {
        float[] x = ActivationTorch.Spread(1000, 15), g = Compare.Randn(1000, 16);
        var (yT, gradT) = ActivationTorch.Run(t => nn.functional.silu(t[0]), g, (x, new long[] { 1000 }));
        var y = new float[1000];
        var dx = new float[1000];
        Silu.Forward(x, y);
        Silu.Backward(g, x, dx);
        Compare.Close(y, yT, 1e-6, 1e-9, "SiLU forward vs torch");
        Compare.Close(dx, gradT[0], 1e-6, 1e-9, "SiLU dx vs torch");
    }

    [Fact]
    public void Silu_SpecialValues_NaNPropagatesInfinityGivesLimits()
    {
        float[] x = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -100f, -90f, -20f, 0f, 20f, 100f, 1e30f, -1e30f };
        var y = new float[x.Length];
        var dx = new float[x.Length];
        Silu.Forward(x, y);
        Silu.Backward(Enumerable.Repeat(1f, x.Length).ToArray(), x, dx);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(dx[0]));
        Assert.Equal(new[] { float.PositiveInfinity, 0f }, y[1..3]);
        Assert.Equal(new[] { 1f, 0f }, dx[1..3]);
        float[] yT = ActivationTorch.Forward(t => nn.functional.silu(t), x[3..]);
        Compare.Close(y.AsSpan(3), yT, 1e-6, 1e-9, "SiLU special finite values vs torch");
    }

    [Fact]
    public void Silu_Minimum_IsMinus0278AtMinus1278()
    {
        (double xMin, double yMin) = GeluTests.GridMinimum((x, y) => Silu.Forward(x, y), (dy, x, dx) => Silu.Backward(dy, x, dx), -4, 0);
        Assert.Equal(-0.278, yMin, 3);
        Assert.Equal(-1.278, xMin, 3);
    }

    [Fact]
    public void ReluSilu_BadInput_ThrowsNamingArgument()
    {
        var x = new float[8];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Relu.Forward(x, new float[7])).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Relu.Backward(new float[7], x, new float[8])).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Silu.Backward(new float[8], x, x)).ParamName);
        float[] buf = new float[20];
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Silu.Forward(buf.AsSpan(4, 8), buf.AsSpan(0, 8))).ParamName);
        Relu.Forward(buf.AsSpan(0, 8), buf.AsSpan(0, 8));  // exactly in place is allowed
    }

    internal static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (double)a[i] * b[i];
        }

        return s;
    }
}
