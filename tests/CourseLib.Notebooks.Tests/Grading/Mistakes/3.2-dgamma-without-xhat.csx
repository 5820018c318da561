// Exercise 3.2: LayerNorm backward (dx, dγ, dβ)
// expect-hint: dγ looks like Σ dy
// With x̂ = (x − μ)·rstd and g = dy·γ, per row:
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),  dγ = Σ_rows dy·x̂,  dβ = Σ_rows dy
(float[] dx, float[] dgamma, float[] dbeta) LayerNormBackward(float[] dy, float[] x, float[] gamma, int n, int c, float eps)
{
    var dx = new float[n * c];
    var dgamma = new float[c];
    var dbeta = new float[c];
    var xhat = new float[c];
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
        float meanG = 0, meanGXhat = 0;
        for (int j = 0; j < c; j++)
        {
            int i = r * c + j;
            xhat[j] = (x[i] - mean) * rstd;
            float g = dy[i] * gamma[j];
            meanG += g;
            meanGXhat += g * xhat[j];
            dgamma[j] += dy[i]; // the mistake: dγ without x̂ (that is dβ)
            dbeta[j] += dy[i];
        }

        meanG /= c;
        meanGXhat /= c;
        for (int j = 0; j < c; j++)
        {
            int i = r * c + j;
            dx[i] = rstd * (dy[i] * gamma[j] - meanG - xhat[j] * meanGXhat);
        }
    }

    return (dx, dgamma, dbeta);
}
