// Exercise 6.2: Sampling the next token
// expect-hint: subtract the largest logit first
int SampleToken(float[] logits, float temperature, double u)
{
    // The mistake: exp(z/τ) straight away; for logits near 1000 it is ∞ and every probability ∞/∞ = NaN.
    var p = logits.Select(z => MathF.Exp(z / temperature)).ToArray();
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
