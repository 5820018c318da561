// Exercise 3.1: LayerNorm forward
// expect-hint: Bessel
// Per row of x[N, C]: μ = mean(x), σ² = mean((x − μ)²), y = γ·(x − μ)/√(σ² + ε) + β
float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps)
{
    var y = new float[n * c];
    for (int r = 0; r < n; r++)
    {
        float mean = 0;
        for (int j = 0; j < c; j++)
        {
            mean += x[r * c + j];
        }

        mean /= c;
        float variance = 0;
        for (int j = 0; j < c; j++)
        {
            float d = x[r * c + j] - mean;
            variance += d * d;
        }

        variance /= c - 1; // the mistake: the unbiased (sample) variance
        float rstd = 1f / MathF.Sqrt(variance + eps);
        for (int j = 0; j < c; j++)
        {
            y[r * c + j] = (x[r * c + j] - mean) * rstd * gamma[j] + beta[j];
        }
    }

    return y;
}
