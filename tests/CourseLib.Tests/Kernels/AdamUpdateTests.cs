using CourseLib.Kernels;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Kernels;

/// <summary>
/// The Adam update: the vector paths perform the reference's operations in the same order, so they must agree bit
/// for bit (training curves do not depend on which path ran); the reference follows PyTorch's formula (checked in
/// double precision here, and against torch.optim.Adam by the optimizer and twin tests).
/// </summary>
public class AdamUpdateTests
{
    private static readonly AdamUpdate.Scalars Adam3 = Scalars(step: 3, lr: 1e-2, weightDecay: 0.1, decoupled: false);
    private static readonly AdamUpdate.Scalars AdamW3 = Scalars(step: 3, lr: 1e-2, weightDecay: 0.1, decoupled: true);

    private static AdamUpdate.Scalars Scalars(int step, double lr, double weightDecay, bool decoupled, double beta1 = 0.9, double beta2 = 0.98)
        => new((float)beta1, (float)beta2, 1e-8f, (float)(lr / (1 - Math.Pow(beta1, step))), (float)Math.Sqrt(1 - Math.Pow(beta2, step)),
            decoupled ? 1f - (float)(lr * weightDecay) : 1f, decoupled ? 0f : (float)weightDecay);

    private static (float[] W, float[] G, float[] M, float[] V) State(int len, int seed)
    {
        float[] v = Compare.Randn(len, seed + 3);
        for (int i = 0; i < len; i++)
        {
            v[i] *= v[i]; // a second moment is never negative
        }

        return (Compare.Randn(len, seed), Compare.Randn(len, seed + 1), Compare.Randn(len, seed + 2), v);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Step_FastVsReferenceEveryLength1To256_BitIdentical(bool decoupled)
    {
        AdamUpdate.Scalars s = decoupled ? AdamW3 : Adam3;
        for (int len = 1; len <= 256; len++)
        {
            (float[] w, float[] g, float[] m, float[] v) = State(len, len);
            (float[] wr, float[] mr, float[] vr) = ((float[])w.Clone(), (float[])m.Clone(), (float[])v.Clone());
            AdamUpdate.StepReference(wr, g, mr, vr, s);

            (float[] w1, float[] m1, float[] v1) = ((float[])w.Clone(), (float[])m.Clone(), (float[])v.Clone());
            AdamUpdate.Step(w1, g, m1, v1, s);
            Assert.Equal(wr, w1);
            Assert.Equal(mr, m1);
            Assert.Equal(vr, v1);

            // Each vector width on its own (the dispatcher picks one), then the scalar tail.
            (float[] w2, float[] m2, float[] v2) = ((float[])w.Clone(), (float[])m.Clone(), (float[])v.Clone());
            AdamUpdate.StepScalar(w2, g, m2, v2, s, AdamUpdate.Step256(w2, g, m2, v2, s));
            Assert.Equal(wr, w2);
            Assert.Equal(vr, v2);
            if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
            {
                (float[] w3, float[] m3, float[] v3) = ((float[])w.Clone(), (float[])m.Clone(), (float[])v.Clone());
                AdamUpdate.StepScalar(w3, g, m3, v3, s, AdamUpdate.Step512(w3, g, m3, v3, s));
                Assert.Equal(wr, w3);
                Assert.Equal(mr, m3);
            }
        }
    }

    [Theory]
    [InlineData(513)]
    [InlineData(529)]
    [InlineData(4099)]
    public void Step_LongerThanPrefetchDistance_BitIdenticalToReference(int len)
    {
        // Past 512 floats the AVX-512 loop prefetches ahead; the prefetched part, the part without and the tail all
        // give the reference's bits.
        (float[] w, float[] g, float[] m, float[] v) = State(len, len);
        (float[] wr, float[] mr, float[] vr) = ((float[])w.Clone(), (float[])m.Clone(), (float[])v.Clone());
        AdamUpdate.StepReference(wr, g, mr, vr, AdamW3);
        AdamUpdate.Step(w, g, m, v, AdamW3);
        Assert.Equal(wr, w);
        Assert.Equal(mr, m);
        Assert.Equal(vr, v);
    }

    [Fact]
    public void StepReference_ComparedWithPyTorchFormulaInDouble_AgreesToFloatRounding()
    {
        const int Len = 97, T = 3;
        const double Lr = 1e-2, B1 = 0.9, B2 = 0.98, Eps = 1e-8, Wd = 0.1;
        (float[] w, float[] g, float[] m, float[] v) = State(Len, 7);
        var expected = new double[Len];
        for (int i = 0; i < Len; i++)
        {
            double gi = g[i] + (Wd * w[i]); // torch.optim.Adam: weight_decay adds λ·w to the gradient
            double mi = (B1 * m[i]) + ((1 - B1) * gi), vi = (B2 * v[i]) + ((1 - B2) * gi * gi);
            double mHat = mi / (1 - Math.Pow(B1, T)), vHat = vi / (1 - Math.Pow(B2, T));
            expected[i] = w[i] - (Lr * mHat / (Math.Sqrt(vHat) + Eps));
        }

        AdamUpdate.StepReference(w, g, m, v, Adam3);
        for (int i = 0; i < Len; i++)
        {
            Assert.Equal(expected[i], w[i], 1e-5 * (1 + Math.Abs(expected[i])));
        }
    }

    [Fact]
    public void Step_NaNGradient_PropagatesToWeightAndMoments()
    {
        (float[] w, float[] g, float[] m, float[] v) = State(40, 9);
        g[33] = float.NaN;
        AdamUpdate.Step(w, g, m, v, Adam3);
        Assert.True(float.IsNaN(w[33]) && float.IsNaN(m[33]) && float.IsNaN(v[33]));
        Assert.False(float.IsNaN(w[32]));
    }

    [Fact]
    public void Step_MismatchedLengths_ThrowsNamingTheArgument()
    {
        (float[] w, float[] g, float[] m, float[] v) = State(16, 11);
        var e = Assert.Throws<ArgumentException>(() => AdamUpdate.Step(w, g.AsSpan(0, 15), m, v, Adam3));
        Assert.Equal("g", e.ParamName);
        Assert.Contains("15", e.Message, StringComparison.Ordinal);
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => AdamUpdate.Step(w, g, m, new float[17], Adam3)).ParamName);
        Assert.Throws<ArgumentException>(() => AdamUpdate.Step(w, w, m, v, Adam3));
    }
}
