// Exercise 7.1: Fused bias + GELU forward
// y[r, j] = GELU(x[r, j] + b[j]) in one pass, exact GELU: ½v(1 + erf(v/√2))
float[] BiasGeluForward(float[] x, float[] bias, int n, int c)
{
    var y = new float[n * c];
    for (int r = 0; r < n; r++)
    {
        for (int j = 0; j < c; j++)
        {
            double v = x[r * c + j] + bias[j];
            y[r * c + j] = (float)(0.5 * v * (1.0 + ExerciseMath.Erf(v / Math.Sqrt(2.0))));
        }
    }

    return y;
}
