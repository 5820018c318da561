using CourseLib.Checks;
using CourseLib.Kernels;
using CourseLib.Tests.Support;
using TorchSharp;
using static CourseLib.Tests.Kernels.NormTestData;

namespace CourseLib.Tests.Kernels;

// Tolerances:
// - fast vs reference: the reference accumulates mean/variance in double, the fast path in float vector lanes,
//   so they differ by a few float roundings: 1e-5 relative to the largest output, plus 1e-6 absolute.
// - vs finite differences: the loss is evaluated through the float kernel, so each difference carries
//   ~1e-7·|L| of rounding divided by 2h = 2e-3: about 1e-4 absolute; we allow 2e-3 relative + 2e-4 absolute.
// - vs libtorch: the target, max|diff| ≤ 1e-5·max|ref| (plus 1e-6 absolute for sums that cancel).
public class LayerNormTests
{
    private static (float[] x, float[] g, float[] b) Inputs(int n, int c, int seed) =>
        (Randn(n * c, seed, 2f, 3f), Randn(c, seed + 1, 0.5f, 1f), Randn(c, seed + 2, 0.5f));

    [Fact]
    public void Forward_EveryCAndOddRows_MatchesReference()
    {
        for (int c = 1; c <= 256; c++)
        {
            foreach (int n in OddRows)
            {
                var (x, g, b) = Inputs(n, c, c * 10 + n);
                float[] y = new float[n * c], m = new float[n], r = new float[n];
                float[] y0 = new float[n * c], m0 = new float[n], r0 = new float[n];
                LayerNorm.Forward(x, g, b, y, m, r, n, c);
                LayerNorm.ForwardReference(x, g, b, y0, m0, r0, n, c);
                Compare.Close(y, y0, 1e-5, 1e-6, $"y n={n} c={c}");
                Compare.Close(m, m0, 1e-6, 1e-6, $"mean n={n} c={c}");
                Compare.Close(r, r0, 1e-5, 0, $"rstd n={n} c={c}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Forward_OutputLargeEnoughToStream_MatchesReference(int yOffset)
    {
        // 2,100 × 1,031 floats is 8.7 MB, past the size where y is written with non-temporal stores and x's rows are
        // prefetched ahead (RowPrefetch); odd C and an offset into y put every row at a different alignment, so each
        // row has a scalar head and tail.
        const int n = 2100, c = 1031;
        Assert.True(LayerNorm.Streams((long)n * c));
        var (x, g, b) = Inputs(n, c, 77);
        float[] buffer = new float[n * c + yOffset], m = new float[n], r = new float[n];
        float[] y0 = new float[n * c], m0 = new float[n], r0 = new float[n];
        LayerNorm.Forward(x, g, b, buffer.AsSpan(yOffset, n * c), m, r, n, c);
        LayerNorm.ForwardReference(x, g, b, y0, m0, r0, n, c);
        Compare.Close(buffer.AsSpan(yOffset).ToArray(), y0, 1e-5, 1e-6, $"y (offset {yOffset})");
        Compare.Close(r, r0, 1e-5, 0, "rstd");
        Assert.All(buffer.AsSpan(0, yOffset).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Forward_RowsInGroupsOfFour_EqualEachRowAloneExactly()
    {
        // With AVX-512, C a multiple of 16 (≤ 256) and a small input, rows go four at a time (interleaved sums); each row must come out bit
        // for bit as it does alone (n = 1 takes the one-row path), so results do not depend on a row's neighbours.
        foreach (int c in new[] { 16, 48, 64, 80, 256, 272 })
        {
            const int n = 41;
            var (x, g, b) = Inputs(n, c, 500 + c);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (x[i] * (1 + (i % 7 * 300))) + 0.1f; // magnitudes that make any change of summation order show
            }

            float[] y = new float[n * c], m = new float[n], r = new float[n];
            LayerNorm.Forward(x, g, b, y, m, r, n, c);
            for (int row = 0; row < n; row++)
            {
                float[] y1 = new float[c], m1 = new float[1], r1 = new float[1];
                LayerNorm.Forward(x.AsSpan(row * c, c), g, b, y1, m1, r1, 1, c);
                Assert.True(y1.AsSpan().SequenceEqual(y.AsSpan(row * c, c)), $"c={c} row={row}: y");
                Assert.Equal(m1[0], m[row]);
                Assert.Equal(r1[0], r[row]);
            }
        }
    }

    [Fact]
    public void Backward_FourRowsAtATime_EqualEachRowAloneExactly()
    {
        // With AVX-512 rows go four at a time, dγ and dβ summed over the four in registers; every row must still come
        // out bit for bit as it does alone (n = 1 has no group of four), and dγ, dβ must accumulate in the same row
        // order. n = 9 leaves one row after two groups, n = 7 three after one.
        foreach (int c in new[] { 16, 40, 100, 256, 768, 1031 })
        foreach (int n in new[] { 7, 9 })
        {
            var (x, g, b) = Inputs(n, c, 900 + c);
            float[] dy = Randn(n * c, 901 + c);
            float[] y = new float[n * c], m = new float[n], r = new float[n];
            LayerNorm.Forward(x, g, b, y, m, r, n, c);
            float[] dx = Randn(n * c, 1), dg = Randn(c, 2), db = Randn(c, 3);
            float[] dx1 = (float[])dx.Clone(), dg1 = (float[])dg.Clone(), db1 = (float[])db.Clone();
            LayerNorm.Backward(dy, x, g, m, r, dx, dg, db, n, c);
            for (int row = 0; row < n; row++)
            {
                LayerNorm.Backward(dy.AsSpan(row * c, c), x.AsSpan(row * c, c), g, m.AsSpan(row, 1), r.AsSpan(row, 1),
                    dx1.AsSpan(row * c, c), dg1, db1, 1, c);
            }

            Assert.True(dx1.AsSpan().SequenceEqual(dx), $"n={n} c={c}: dx");
            Assert.True(dg1.AsSpan().SequenceEqual(dg), $"n={n} c={c}: dγ");
            Assert.True(db1.AsSpan().SequenceEqual(db), $"n={n} c={c}: dβ");

            // dx alone (dγ, dβ skipped) takes the same path without them.
            float[] dxOnly = Randn(n * c, 1);
            LayerNorm.Backward(dy, x, g, m, r, dxOnly, Span<float>.Empty, Span<float>.Empty, n, c);
            Assert.True(dx1.AsSpan().SequenceEqual(dxOnly), $"n={n} c={c}: dx without dγ, dβ");
        }
    }

    [Fact]
    public void Backward_EveryCAndOddRows_MatchesReferenceAndAccumulates()
    {
        for (int c = 1; c <= 256; c++)
        {
            foreach (int n in OddRows)
            {
                var (x, g, b) = Inputs(n, c, c * 10 + n);
                float[] dy = Randn(n * c, c + 5000 + n);
                float[] y = new float[n * c], m = new float[n], r = new float[n];
                LayerNorm.ForwardReference(x, g, b, y, m, r, n, c);
                // Start from non-zero gradients: backward must add, not overwrite.
                float[] dx = Randn(n * c, 1), dg = Randn(c, 2), db = Randn(c, 3);
                float[] dx0 = (float[])dx.Clone(), dg0 = (float[])dg.Clone(), db0 = (float[])db.Clone();
                LayerNorm.Backward(dy, x, g, m, r, dx, dg, db, n, c);
                LayerNorm.BackwardReference(dy, x, g, m, r, dx0, dg0, db0, n, c);
                Compare.Close(dx, dx0, 1e-5, 1e-6, $"dx n={n} c={c}");
                Compare.Close(dg, dg0, 1e-5, 1e-6, $"dgamma n={n} c={c}");
                Compare.Close(db, db0, 1e-5, 1e-6, $"dbeta n={n} c={c}");
            }
        }
    }

    [Fact]
    public void ForwardBackward_LargeThreadedShape_MatchesReference()
    {
        // N·C = 256·640 is above the threading threshold, so on a multi-core machine this runs the threaded paths.
        const int n = 256, c = 640;
        var (x, g, b) = Inputs(n, c, 77);
        float[] dy = Randn(n * c, 78);
        float[] y = new float[n * c], m = new float[n], r = new float[n], y0 = new float[n * c], m0 = new float[n], r0 = new float[n];
        LayerNorm.Forward(x, g, b, y, m, r, n, c);
        LayerNorm.ForwardReference(x, g, b, y0, m0, r0, n, c);
        Compare.Close(y, y0, 1e-5, 1e-6, "y");
        float[] dx = new float[n * c], dg = new float[c], db = new float[c], dx0 = new float[n * c], dg0 = new float[c], db0 = new float[c];
        LayerNorm.Backward(dy, x, g, m, r, dx, dg, db, n, c);
        LayerNorm.BackwardReference(dy, x, g, m, r, dx0, dg0, db0, n, c);
        Compare.Close(dx, dx0, 1e-5, 1e-6, "dx");
        Compare.Close(dg, dg0, 1e-5, 1e-5, "dgamma");
        Compare.Close(db, db0, 1e-5, 1e-5, "dbeta");
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(2, 45)]
    public void Backward_AllGradients_MatchFiniteDifferences(int n, int c)
    {
        var (x, g, b) = Inputs(n, c, 11);
        float[] w = Randn(n * c, 12);
        float[] y = new float[n * c], m = new float[n], r = new float[n];
        double Loss()
        {
            LayerNorm.Forward(x, g, b, y, m, r, n, c);
            return Dot(y, w);
        }

        Loss();
        float[] dx = new float[n * c], dg = new float[c], db = new float[c];
        LayerNorm.Backward(w, x, g, m, r, dx, dg, db, n, c);
        Compare.Close(dx, GradientChecker.Numerical(x, Loss), 2e-3, 2e-4, "dx vs finite differences");
        Compare.Close(dg, GradientChecker.Numerical(g, Loss), 2e-3, 2e-4, "dgamma vs finite differences");
        Compare.Close(db, GradientChecker.Numerical(b, Loss), 2e-3, 2e-4, "dbeta vs finite differences");
    }

    [Theory]
    [InlineData(7, 45)]
    [InlineData(64, 768)]
    public void ForwardBackward_SameInputs_MatchTorch(int n, int c)
    {
        var (x, g, b) = Inputs(n, c, 21);
        float[] w = Randn(n * c, 22);
        float[] y = new float[n * c], m = new float[n], r = new float[n];
        float[] dx = new float[n * c], dg = new float[c], db = new float[c];
        LayerNorm.Forward(x, g, b, y, m, r, n, c);
        LayerNorm.Backward(w, x, g, m, r, dx, dg, db, n, c);

        using var scope = Scope();
        var tx = T(x, new long[] { n, c }, grad: true);
        var tg = T(g, new long[] { c }, grad: true);
        var tb = T(b, new long[] { c }, grad: true);
        var ty = torch.nn.functional.layer_norm(tx, new long[] { c }, tg, tb, 1e-5);
        (ty * T(w, new long[] { n, c })).sum().backward();
        Compare.Close(y, Torch.TorchInterop.ToArray(ty), 1e-5, 0, "y vs torch");
        Compare.Close(dx, Grad(tx), 1e-5, 1e-6, "dx vs torch");
        Compare.Close(dg, Grad(tg), 1e-5, 1e-6, "dgamma vs torch");
        Compare.Close(db, Grad(tb), 1e-5, 1e-6, "dbeta vs torch");
    }

    [Fact]
    public void Forward_ShiftedInput_SameOutput()
    {
        const int n = 3, c = 50;
        var (x, g, b) = Inputs(n, c, 31);
        float[] shifted = x.Select(v => v + 10f).ToArray();
        float[] y1 = new float[n * c], y2 = new float[n * c], m = new float[n], r = new float[n];
        LayerNorm.Forward(x, g, b, y1, m, r, n, c);
        LayerNorm.Forward(shifted, g, b, y2, m, r, n, c);
        // x + 10 rounds each element to float (ulp ≈ 1e-6 at 13), which moves x̂ by about that much.
        Compare.Close(y2, y1, 0, 2e-5, "LN(x + 10) vs LN(x)");
    }

    [Fact]
    public void Forward_ScaledInputUnitAffine_SameOutput()
    {
        const int n = 3, c = 50;
        float[] x = Randn(n * c, 32), ones = Enumerable.Repeat(1f, c).ToArray(), zeros = new float[c];
        float[] scaled = x.Select(v => v * 8f).ToArray();
        float[] y1 = new float[n * c], y2 = new float[n * c], m = new float[n], r = new float[n];
        // eps = 0 so the identity is exact up to rounding (with eps > 0 it holds only approximately).
        LayerNorm.Forward(x, ones, zeros, y1, m, r, n, c, eps: 0f);
        LayerNorm.Forward(scaled, ones, zeros, y2, m, r, n, c, eps: 0f);
        Compare.Close(y2, y1, 1e-6, 1e-6, "LN(8x) vs LN(x)");
    }

    [Fact]
    public void Forward_OtherRowChanged_RowUnchanged()
    {
        const int n = 4, c = 33;
        var (x, g, b) = Inputs(n, c, 41);
        float[] y1 = new float[n * c], y2 = new float[n * c], m = new float[n], r = new float[n];
        LayerNorm.Forward(x, g, b, y1, m, r, n, c);
        for (int i = c; i < n * c; i++)
        {
            x[i] = x[i] * 5f + 100f;
        }

        LayerNorm.Forward(x, g, b, y2, m, r, n, c);
        Assert.Equal(y1.AsSpan(0, c).ToArray(), y2.AsSpan(0, c).ToArray());
        Assert.NotEqual(y1.AsSpan(c, c).ToArray(), y2.AsSpan(c, c).ToArray());
    }

    [Fact]
    public void Forward_NaNInOneRow_PropagatesToThatRowOnly()
    {
        const int n = 2, c = 40;
        var (x, g, b) = Inputs(n, c, 51);
        x[5] = float.NaN;
        float[] y = new float[n * c], m = new float[n], r = new float[n];
        LayerNorm.Forward(x, g, b, y, m, r, n, c);
        Assert.All(y.AsSpan(0, c).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(y.AsSpan(c, c).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Forward_BadArguments_ThrowNamingTheArgument()
    {
        float[] x = new float[12], g = new float[4], b = new float[4], y = new float[12], m = new float[3], r = new float[3];
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => LayerNorm.Forward(x, g, b, y, m, r, 0, 4)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentOutOfRangeException>(() => LayerNorm.Forward(x, g, b, y, m, r, 3, -4)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g, b, y, m, r, 4, 4));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("16", e.Message, StringComparison.Ordinal);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, new float[3], b, y, m, r, 3, 4)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g, new float[5], y, m, r, 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g, b, new float[11], m, r, 3, 4)).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g, b, y, m, new float[2], 3, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g, b, x, m, r, 3, 4)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => LayerNorm.Forward(x, g, b, y, m, r, 3, 4, -1f)).ParamName);
        // Nothing was written before the throw.
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Backward_BadArguments_ThrowNamingTheArgument()
    {
        float[] dy = new float[12], x = new float[12], g = new float[4], m = new float[3], r = new float[3];
        float[] dx = new float[12], dg = new float[4], db = new float[4];
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(new float[10], x, g, m, r, dx, dg, db, 3, 4)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(dy, x, g, new float[4], r, dx, dg, db, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(dy, x, g, m, r, new float[11], dg, db, 3, 4)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(dy, x, g, m, r, dy, dg, db, 3, 4)).ParamName);
        Assert.Equal("dbeta", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(dy, x, g, m, r, dx, dg, dg, 3, 4)).ParamName);
        // Empty gradients are skipped, not errors.
        LayerNorm.Backward(dy, x, g, m, r, Span<float>.Empty, Span<float>.Empty, db, 3, 4);
    }
}
