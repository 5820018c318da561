// Exercise 6.1: Post-LN block forward
// expect-hint: Pre-LN block
float[] PostLnBlockForward(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn, float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps)
{
    // The mistake: GPT-2's order, x + F(LN(x)), instead of the original Transformer's LN(x + F(x)).
    float[] a = attention(Norm(x, gamma1, beta1, n, c, eps));
    var h = new float[n * c];
    for (int i = 0; i < h.Length; i++)
    {
        h[i] = x[i] + a[i];
    }

    float[] f = ffn(Norm(h, gamma2, beta2, n, c, eps));
    var y = new float[n * c];
    for (int i = 0; i < y.Length; i++)
    {
        y[i] = h[i] + f[i];
    }

    return y;
}

float[] Norm(float[] x, float[] gamma, float[] beta, int n, int c, float eps)
{
    var y = new float[n * c];
    for (int r = 0; r < n; r++)
    {
        float mean = 0, variance = 0;
        for (int j = 0; j < c; j++) mean += x[r * c + j];
        mean /= c;
        for (int j = 0; j < c; j++) variance += (x[r * c + j] - mean) * (x[r * c + j] - mean);
        float rstd = 1f / MathF.Sqrt(variance / c + eps);
        for (int j = 0; j < c; j++) y[r * c + j] = gamma[j] * (x[r * c + j] - mean) * rstd + beta[j];
    }

    return y;
}
