// Exercise 6.2: Sampling the next token
// p = softmax(z/τ) with the largest logit subtracted first; the first token whose cumulative probability exceeds u
int SampleToken(float[] logits, float temperature, double u)
{
    float max = logits.Max();
    var p = new double[logits.Length];
    double sum = 0;
    for (int i = 0; i < logits.Length; i++)
    {
        p[i] = Math.Exp((logits[i] - max) / temperature);
        sum += p[i];
    }

    double cdf = 0;
    for (int i = 0; i < logits.Length; i++)
    {
        cdf += p[i] / sum;
        if (u < cdf)
        {
            return i;
        }
    }

    return logits.Length - 1;
}
