// Exercise 5.1: Linear warm-up + cosine schedule
// 0-based steps, as llm.c: step < W: max·(step + 1)/W;  W ≤ step < S: cosine from max to min;  step ≥ S: min
float LearningRate(int step, int warmupSteps, int totalSteps, float maxLr, float minLr)
{
    if (step < warmupSteps)
    {
        return maxLr * (step + 1) / warmupSteps;
    }

    if (step >= totalSteps)
    {
        return minLr;
    }

    double progress = (double)(step - warmupSteps) / (totalSteps - warmupSteps);
    double coeff = 0.5 * (1.0 + Math.Cos(Math.PI * progress));
    return (float)(minLr + coeff * (maxLr - minLr));
}
