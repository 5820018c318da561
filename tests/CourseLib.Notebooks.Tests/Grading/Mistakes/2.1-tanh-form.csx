// Exercise 2.1: GELU (exact) forward
// expect-hint: tanh approximation
float[] GeluForward(float[] x)
{
    var y = new float[x.Length];
    for (int i = 0; i < x.Length; i++)
    {
        float v = x[i];
        // The mistake: GPT-2's tanh approximation where the exercise asks for the exact erf form.
        y[i] = 0.5f * v * (1f + MathF.Tanh(MathF.Sqrt(2f / MathF.PI) * (v + 0.044715f * v * v * v)));
    }

    return y;
}
