// Exercise 6.2: Sampling the next token
// expect-hint: temperature looks multiplied
int SampleToken(float[] logits, float temperature, double u)
{
    // The mistake: z·τ instead of z/τ, so a low temperature flattens the distribution instead of sharpening it.
    float max = logits.Max();
    var p = logits.Select(z => MathF.Exp((z - max) * temperature)).ToArray();
    float sum = p.Sum();
    float cdf = 0;
    for (int i = 0; i < p.Length; i++)
    {
        cdf += p[i] / sum;
        if (u < cdf)
        {
            return i;
        }
    }

    return p.Length - 1;
}
