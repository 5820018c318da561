// Exercise 6.2: Sampling the next token
// expect-hint: one too high
int SampleToken(float[] logits, float temperature, double u)
{
    float max = logits.Max();
    var p = logits.Select(z => Math.Exp((z - max) / temperature)).ToArray();
    double sum = p.Sum();
    double cdf = 0;
    for (int i = 0; i < p.Length; i++)
    {
        // The mistake: comparing before adding p_i, so token i is chosen when u falls in token i − 1's interval.
        if (u < cdf)
        {
            return i;
        }

        cdf += p[i] / sum;
    }

    return p.Length - 1;
}
