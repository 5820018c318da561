// Exercise 2.2: GELU derivative
// expect-hint: product rule
float[] GeluDerivative(float[] x)
{
    var d = new float[x.Length];
    for (int i = 0; i < x.Length; i++)
    {
        // The mistake: d/dx of x·Φ(x) taken as Φ(x), forgetting the product rule.
        d[i] = (float)(0.5 * (1.0 + ExerciseMath.Erf(x[i] / Math.Sqrt(2.0))));
    }

    return d;
}
