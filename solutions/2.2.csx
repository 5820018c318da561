// Exercise 2.2: GELU derivative
// GELU′(x) = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π)
float[] GeluDerivative(float[] x)
{
    var d = new float[x.Length];
    for (int i = 0; i < x.Length; i++)
    {
        double v = x[i];
        double cdf = 0.5 * (1.0 + ExerciseMath.Erf(v / Math.Sqrt(2.0)));
        double pdf = Math.Exp(-0.5 * v * v) / Math.Sqrt(2.0 * Math.PI);
        d[i] = (float)(cdf + v * pdf);
    }

    return d;
}
