using CourseLib.Kernels;
using CourseLib.Kernels.LowPrecision;
using CourseLib.Layers;
using CourseLib.Training;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// The library's kernels in the exercises' signatures: the fallback of <see cref="Exercise.Use{TDelegate}"/> and
/// the "library" column of a check. They allocate their outputs, as the exercises do; the kernels write into spans.
/// </summary>
internal static class LibraryImplementations
{
    public static float[] FfnForward(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)
    {
        var hidden = new float[t * 4 * c];
        var activated = new float[hidden.Length];
        var y = new float[t * c];
        Linear.Forward(x, w1, b1, hidden, t, c, 4 * c);
        Relu.Forward(hidden, activated);
        Linear.Forward(activated, w2, b2, y, t, 4 * c, c);
        return y;
    }

    public static (float[] Dx, float[] DW1, float[] DB1, float[] DW2, float[] DB2) FfnBackward(
        float[] dy, float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)
    {
        int h = 4 * c;
        var pre = new float[t * h];
        var activated = new float[t * h];
        Linear.Forward(x, w1, b1, pre, t, c, h);
        Relu.Forward(pre, activated);
        var da = new float[t * h];
        var dh = new float[t * h];
        var dx = new float[t * c];
        var dw1 = new float[h * c];
        var db1 = new float[h];
        var dw2 = new float[c * h];
        var db2 = new float[c];
        Linear.Backward(dy, activated, w2, da, dw2, db2, t, h, c);
        Relu.Backward(da, pre, dh);
        Linear.Backward(dh, x, w1, dx, dw1, db1, t, c, h);
        return (dx, dw1, db1, dw2, db2);
    }

    public static float[] GeluForward(float[] x)
    {
        var y = new float[x.Length];
        Gelu.Forward(x, y, GeluApproximation.None);
        return y;
    }

    public static float[] GeluDerivative(float[] x)
    {
        // Backward with dy = 1 accumulates exactly GELU′(x) into a zeroed dx.
        var ones = new float[x.Length];
        Array.Fill(ones, 1f);
        var dx = new float[x.Length];
        Gelu.Backward(ones, x, dx, GeluApproximation.None);
        return dx;
    }

    public static float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps)
    {
        var y = new float[n * c];
        LayerNorm.Forward(x, gamma, beta, y, new float[n], new float[n], n, c, eps);
        return y;
    }

    public static (float[] Dx, float[] DGamma, float[] DBeta) LayerNormBackward(float[] dy, float[] x, float[] gamma, int n, int c, float eps)
    {
        var mean = new float[n];
        var rstd = new float[n];
        LayerNorm.Forward(x, gamma, new float[c], new float[n * c], mean, rstd, n, c, eps);
        var dx = new float[n * c];
        var dgamma = new float[c];
        var dbeta = new float[c];
        LayerNorm.Backward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, n, c);
        return (dx, dgamma, dbeta);
    }

    public static float[] ResidualForward(float[] x, Func<float[], float[]> sublayer, float scale)
    {
        float[] fx = sublayer(x);
        var y = new float[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[i] + scale * fx[i];
        }

        return y;
    }

    public static (float[] Dx, float DAlpha) ResidualBackward(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha)
    {
        // y = x + α·F(x): the identity path passes dy through, the branch's gradient is scaled by α.
        float[] branch = sublayerBackward(dy);
        var dx = new float[dy.Length];
        double dalpha = 0;
        for (int i = 0; i < dx.Length; i++)
        {
            dx[i] = dy[i] + alpha * branch[i];
            dalpha += (double)dy[i] * fx[i];
        }

        return (dx, (float)dalpha);
    }

    public static float LearningRate(int step, int warmupSteps, int totalSteps, float maxLr, float minLr) =>
        (float)new WarmupCosineSchedule(maxLr, warmupSteps, totalSteps, minLr).At(step);

    public static float[] PreLnSublayerForward(float[] x, float[] gamma, float[] beta, Func<float[], float[]> sublayer, int n, int c, float eps)
    {
        float[] normed = LayerNormForward(x, gamma, beta, n, c, eps);
        float[] branch = sublayer(normed);
        var y = new float[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[i] + branch[i];
        }

        return y;
    }

    public static float[] BiasGeluForward(float[] x, float[] bias, int n, int c)
    {
        var y = new float[n * c];
        BiasGelu.Forward(x, bias, y, n, c, GeluApproximation.None);
        return y;
    }

    public static (sbyte[] Q, float[] Scales) QuantizeInt8(float[] w, int rows, int cols)
    {
        var q = new sbyte[rows * cols];
        var scales = new float[rows];
        Int8Linear.Quantize(w, q, scales, inDim: cols, outDim: rows);
        return (q, scales);
    }

    public static (int[] Experts, float[] Gates) TopKRouting(float[] logits, int n, int e, int k)
    {
        // The router's softmax over all E logits, then MoeFeedForward's selection (CourseLib.Layers.MoeRouting).
        var probs = new float[n * e];
        Softmax.Forward(logits, probs, n, e);
        var experts = new int[n * k];
        var gates = new float[n * k];
        MoeRouting.TopK(probs, experts, gates, n, e, k);
        return (experts, gates);
    }

    public static float LoadBalancingLoss(float[] probs, int[] assignment, int n, int e, float alpha) =>
        (float)MoeRouting.LoadBalancingLoss(probs, assignment, n, e, assignment.Length / n, alpha);
}
