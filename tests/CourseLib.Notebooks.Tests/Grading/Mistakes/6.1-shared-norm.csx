// Exercise 6.1: Post-LN block forward
// expect-hint: gamma1/beta1
float[] PostLnBlockForward(float[] x, Func<float[], float[]> attention, Func<float[], float[]> ffn, float[] gamma1, float[] beta1, float[] gamma2, float[] beta2, int n, int c, float eps)
{
    // The mistake: one γ, β for both norms (gamma2 and beta2 are never read).
    float[] h = Norm(Add(x, attention(x)), gamma1, beta1, n, c, eps);
    return Norm(Add(h, ffn(h)), gamma1, beta1, n, c, eps);
}

float[] Add(float[] a, float[] b) => a.Zip(b, (p, q) => p + q).ToArray();

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
