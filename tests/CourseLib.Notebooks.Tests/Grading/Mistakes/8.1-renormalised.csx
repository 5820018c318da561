// Exercise 8.1: Top-k routing
// expect-hint: Your gates sum to 1 over the k chosen experts
// Per token: p = softmax over all E logits; the k largest p, highest first, ties to the lower index; gate = p.
(int[] experts, float[] gates) TopKRouting(float[] logits, int n, int e, int k)
{
    var experts = new int[n * k];
    var gates = new float[n * k];
    var p = new float[e];
    var taken = new bool[e];
    for (int r = 0; r < n; r++)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < e; j++)
        {
            max = MathF.Max(max, logits[r * e + j]);
        }

        float sum = 0;
        for (int j = 0; j < e; j++)
        {
            p[j] = MathF.Exp(logits[r * e + j] - max);
            sum += p[j];
        }

        for (int j = 0; j < e; j++)
        {
            p[j] /= sum;
            taken[j] = false;
        }

        for (int s = 0; s < k; s++)
        {
            int best = -1;
            for (int j = 0; j < e; j++)
            {
                if (!taken[j] && (best < 0 || p[j] > p[best]))
                {
                    best = j;
                }
            }

            taken[best] = true;
            experts[r * k + s] = best;
            gates[r * k + s] = p[best];
        }

        // The mistake: renormalise the chosen gates so they sum to 1 (Mixtral's convention, not this library's).
        float chosen = 0;
        for (int s = 0; s < k; s++)
        {
            chosen += gates[r * k + s];
        }

        for (int s = 0; s < k; s++)
        {
            gates[r * k + s] /= chosen;
        }
    }

    return (experts, gates);
}
