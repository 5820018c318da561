// Exercise 5.2: Pre-LN sublayer forward
// y = x + F(LN(x)): normalise the branch's input, keep the residual stream raw
float[] PreLnSublayerForward(float[] x, float[] gamma, float[] beta, Func<float[], float[]> sublayer, int n, int c, float eps)
{
    var normed = new float[n * c];
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

        float rstd = 1f / MathF.Sqrt(variance / c + eps);
        for (int j = 0; j < c; j++)
        {
            normed[r * c + j] = (x[r * c + j] - mean) * rstd * gamma[j] + beta[j];
        }
    }

    float[] branch = sublayer(normed);
    var y = new float[n * c];
    for (int i = 0; i < y.Length; i++)
    {
        y[i] = x[i] + branch[i];
    }

    return y;
}
