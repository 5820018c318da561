using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances as in LayerNormTests. The loss used for gradients is L = Σ y·w + Σ sum·u: its gradient with respect
// to sum is LayerNorm's backward of w plus u, which is exactly what dsumExtra carries.
public class ResidualLayerNormTests
{
    private static (float[] x, float[] r, float[] g, float[] b) Inputs(int n, int c, int seed) =>
        (Randn(n * c, seed, 1.5f, 2f), Randn(n * c, seed + 1, 0.7f), Randn(c, seed + 2, 0.5f, 1f), Randn(c, seed + 3, 0.5f));

    [Fact]
    public void ForwardBackward_EveryCAndOddRows_MatchReference()
    {
        for (int c = 1; c <= 256; c++)
        {
            foreach (int n in OddRows)
            {
                var (x, r, g, b) = Inputs(n, c, c * 10 + n);
                float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
                float[] s0 = new float[n * c], y0 = new float[n * c], m0 = new float[n], v0 = new float[n];
                ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
                ResidualLayerNorm.ForwardReference(x, r, g, b, s0, y0, m0, v0, n, c);
                Assert.Equal(s0, s);
                Compare.Close(y, y0, 1e-5, 1e-6, $"y n={n} c={c}");
                Compare.Close(m, m0, 1e-6, 1e-6, $"mean n={n} c={c}");
                Compare.Close(v, v0, 1e-5, 0, $"rstd n={n} c={c}");

                float[] dy = Randn(n * c, c + 9000 + n), extra = Randn(n * c, c + 9500 + n);
                float[] ds = Randn(n * c, 1), dg = Randn(c, 2), db = Randn(c, 3);
                float[] ds0 = (float[])ds.Clone(), dg0 = (float[])dg.Clone(), db0 = (float[])db.Clone();
                ResidualLayerNorm.Backward(dy, extra, s0, g, m0, v0, ds, dg, db, n, c);
                ResidualLayerNorm.BackwardReference(dy, extra, s0, g, m0, v0, ds0, dg0, db0, n, c);
                Compare.Close(ds, ds0, 1e-5, 1e-6, $"dsum n={n} c={c}");
                Compare.Close(dg, dg0, 1e-5, 1e-6, $"dgamma n={n} c={c}");
                Compare.Close(db, db0, 1e-5, 1e-6, $"dbeta n={n} c={c}");
            }
        }
    }

    [Fact]
    public void Forward_OutputLargeEnoughToStream_MatchesReference()
    {
        // y past the streaming size (8.7 MB, see LayerNorm.Streams), odd C so rows start at every alignment.
        const int n = 2100, c = 1031;
        var (x, r, g, b) = Inputs(n, c, 78);
        float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
        float[] s0 = new float[n * c], y0 = new float[n * c], m0 = new float[n], v0 = new float[n];
        ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
        ResidualLayerNorm.ForwardReference(x, r, g, b, s0, y0, m0, v0, n, c);
        Assert.Equal(s0, s);
        Compare.Close(y, y0, 1e-5, 1e-6, "y");

        // The streamed rows (sum built in a scratch row, both outputs stored non-temporally) do the same arithmetic
        // as LayerNorm on the sum.
        float[] y1 = new float[n * c], m1 = new float[n], v1 = new float[n];
        LayerNorm.Forward(s0, g, b, y1, m1, v1, n, c);
        Assert.Equal(y1, y);
        Assert.Equal(m1, m);
        Assert.Equal(v1, v);
    }

    [Fact]
    public void Forward_RowsInGroupsOfFour_EqualEachRowAloneExactly()
    {
        // Four rows at a time (AVX-512, C ≤ 64 and a multiple of 16) must give each row bit for bit what it gets alone.
        foreach (int c in new[] { 16, 64, 80, 256 })
        {
            const int n = 41;
            var (x, r, g, b) = Inputs(n, c, 600 + c);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (x[i] * (1 + (i % 7 * 300))) + 0.1f; // magnitudes that make any change of summation order show
            }

            float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
            ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
            for (int row = 0; row < n; row++)
            {
                float[] s1 = new float[c], y1 = new float[c], m1 = new float[1], v1 = new float[1];
                ResidualLayerNorm.Forward(x.AsSpan(row * c, c), r.AsSpan(row * c, c), g, b, s1, y1, m1, v1, 1, c);
                Assert.True(s1.AsSpan().SequenceEqual(s.AsSpan(row * c, c)), $"c={c} row={row}: sum");
                Assert.True(y1.AsSpan().SequenceEqual(y.AsSpan(row * c, c)), $"c={c} row={row}: y");
                Assert.Equal(m1[0], m[row]);
                Assert.Equal(v1[0], v[row]);
            }
        }
    }

    [Fact]
    public void Forward_SameAsAddThenLayerNorm()
    {
        const int n = 300, c = 256; // above the threading threshold
        var (x, r, g, b) = Inputs(n, c, 3);
        float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
        ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
        float[] sum = x.Zip(r, (a, d) => a + d).ToArray(), y0 = new float[n * c], m0 = new float[n], v0 = new float[n];
        LayerNorm.Forward(sum, g, b, y0, m0, v0, n, c);
        Assert.Equal(sum, s);
        Assert.Equal(y0, y);
    }

    [Fact]
    public void Backward_WithoutExtra_EqualsLayerNormBackward()
    {
        const int n = 5, c = 70;
        var (x, r, g, b) = Inputs(n, c, 4);
        float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n], dy = Randn(n * c, 9);
        ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
        float[] ds = new float[n * c], dg = new float[c], db = new float[c], dx = new float[n * c], dg0 = new float[c], db0 = new float[c];
        ResidualLayerNorm.Backward(dy, ReadOnlySpan<float>.Empty, s, g, m, v, ds, dg, db, n, c);
        LayerNorm.Backward(dy, s, g, m, v, dx, dg0, db0, n, c);
        Assert.Equal(dx, ds);
        Assert.Equal(dg0, dg);
        Assert.Equal(db0, db);
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(2, 45)]
    public void Backward_AllGradients_MatchFiniteDifferences(int n, int c)
    {
        var (x, r, g, b) = Inputs(n, c, 15);
        float[] w = Randn(n * c, 16), u = Randn(n * c, 17);
        float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
        double Loss()
        {
            ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
            return Dot(y, w) + Dot(s, u);
        }

        Loss();
        float[] ds = new float[n * c], dg = new float[c], db = new float[c];
        ResidualLayerNorm.Backward(w, u, s, g, m, v, ds, dg, db, n, c);
        Compare.Close(ds, GradientChecker.Numerical(x, Loss), 2e-3, 2e-4, "dx (= dsum) vs finite differences");
        Compare.Close(ds, GradientChecker.Numerical(r, Loss), 2e-3, 2e-4, "dr (= dsum) vs finite differences");
        Compare.Close(dg, GradientChecker.Numerical(g, Loss), 2e-3, 2e-4, "dgamma vs finite differences");
        Compare.Close(db, GradientChecker.Numerical(b, Loss), 2e-3, 2e-4, "dbeta vs finite differences");
    }

    [Fact]
    public void ForwardBackward_SameInputs_MatchTorch()
    {
        const int n = 64, c = 768;
        var (x, r, g, b) = Inputs(n, c, 25);
        float[] w = Randn(n * c, 26), u = Randn(n * c, 27);
        float[] s = new float[n * c], y = new float[n * c], m = new float[n], v = new float[n];
        float[] ds = new float[n * c], dg = new float[c], db = new float[c];
        ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, n, c);
        ResidualLayerNorm.Backward(w, u, s, g, m, v, ds, dg, db, n, c);

        using var scope = Scope();
        long[] shape = { n, c };
        var tx = T(x, shape, grad: true);
        var tr = T(r, shape, grad: true);
        var tg = T(g, new long[] { c }, grad: true);
        var tb = T(b, new long[] { c }, grad: true);
        var ts = tx + tr;
        var ty = torch.nn.functional.layer_norm(ts, new long[] { c }, tg, tb, 1e-5);
        ((ty * T(w, shape)).sum() + (ts * T(u, shape)).sum()).backward();
        Compare.Close(y, Torch.TorchInterop.ToArray(ty), 1e-5, 0, "y vs torch");
        Compare.Close(ds, Grad(tx), 1e-5, 1e-6, "dx vs torch");
        Compare.Close(ds, Grad(tr), 1e-5, 1e-6, "dr vs torch");
        Compare.Close(dg, Grad(tg), 1e-5, 1e-6, "dgamma vs torch");
        Compare.Close(db, Grad(tb), 1e-5, 1e-6, "dbeta vs torch");
    }

    [Fact]
    public void ForwardBackward_BadArguments_ThrowNamingTheArgument()
    {
        float[] x = new float[12], r = new float[12], g = new float[4], b = new float[4], s = new float[12], y = new float[12];
        float[] m = new float[3], v = new float[3];
        Assert.Equal("r", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Forward(x, new float[8], g, b, s, y, m, v, 3, 4)).ParamName);
        Assert.Equal("sum", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Forward(x, r, g, b, new float[4], y, m, v, 3, 4)).ParamName);
        Assert.Equal("sum", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Forward(x, r, g, b, x, y, m, v, 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Forward(x, r, g, b, s, s, m, v, 3, 4)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentOutOfRangeException>(() => ResidualLayerNorm.Forward(x, r, g, b, s, y, m, v, 3, 0)).ParamName);
        Assert.Equal("dsumExtra", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Backward(y, new float[5], s, g, m, v, x, g, b, 3, 4)).ParamName);
        Assert.Equal("dsum", Assert.Throws<ArgumentException>(() => ResidualLayerNorm.Backward(y, r, s, g, m, v, r, new float[4], new float[4], 3, 4)).ParamName);
    }
}
