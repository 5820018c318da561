// Exercise 6.2: Sampling the next token
// expect-hint: greedy decoding
int SampleToken(float[] logits, float temperature, double u)
{
    // The mistake: the most likely token, whatever u says.
    int best = 0;
    for (int i = 1; i < logits.Length; i++)
    {
        if (logits[i] > logits[best])
        {
            best = i;
        }
    }

    return best;
}
