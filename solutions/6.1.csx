// Exercise 6.1: Post-LN block forward
// h = LN₁(x + Attn(x)), y = LN₂(h + FFN(h)): add first, then normalise the sum, each norm with its own γ, β
float[] PostLnBlockForward(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn, float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps)
{
    float[] h = AddAndNorm(x, attention(x), gamma1, beta1, n, c, eps);
    return AddAndNorm(h, ffn(h), gamma2, beta2, n, c, eps);
}

// LN(a + b) row by row: mean, biased variance, then γ·(s − mean)/√(variance + ε) + β.
float[] AddAndNorm(float[] a, float[] b, float[] gamma, float[] beta, int n, int c, float eps)
{
    var y = new float[n * c];
    var s = new float[c];
    for (int r = 0; r < n; r++)
    {
        float mean = 0;
        for (int j = 0; j < c; j++)
        {
            s[j] = a[r * c + j] + b[r * c + j];
            mean += s[j];
        }

        mean /= c;
        float variance = 0;
        for (int j = 0; j < c; j++)
        {
            variance += (s[j] - mean) * (s[j] - mean);
        }

        float rstd = 1f / MathF.Sqrt(variance / c + eps);
        for (int j = 0; j < c; j++)
        {
            y[r * c + j] = gamma[j] * (s[j] - mean) * rstd + beta[j];
        }
    }

    return y;
}
