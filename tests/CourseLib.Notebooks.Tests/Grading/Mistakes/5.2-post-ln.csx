// Exercise 5.2: Pre-LN sublayer forward
// expect-hint: Post-LN
float[] PreLnSublayerForward(float[] x, float[] gamma, float[] beta, Func<float[], float[]> sublayer, int n, int c, float eps)
{
    // The mistake: the original Transformer's order, LN(x + F(x)), instead of x + F(LN(x)).
    float[] branch = sublayer(x);
    var sum = new float[n * c];
    for (int i = 0; i < sum.Length; i++)
    {
        sum[i] = x[i] + branch[i];
    }

    var y = new float[n * c];
    for (int r = 0; r < n; r++)
    {
        float mean = 0;
        for (int j = 0; j < c; j++)
        {
            mean += sum[r * c + j];
        }

        mean /= c;
        float variance = 0;
        for (int j = 0; j < c; j++)
        {
            float d = sum[r * c + j] - mean;
            variance += d * d;
        }

        float rstd = 1f / MathF.Sqrt(variance / c + eps);
        for (int j = 0; j < c; j++)
        {
            y[r * c + j] = (sum[r * c + j] - mean) * rstd * gamma[j] + beta[j];
        }
    }

    return y;
}
