// Exercise 2.1: GELU (exact) forward
// y = x·Φ(x) = ½·x·(1 + erf(x/√2))
float[] GeluForward(float[] x)
{
    var y = new float[x.Length];
    for (int i = 0; i < x.Length; i++)
    {
        double v = x[i];
        y[i] = (float)(0.5 * v * (1.0 + ExerciseMath.Erf(v / Math.Sqrt(2.0))));
    }

    return y;
}
