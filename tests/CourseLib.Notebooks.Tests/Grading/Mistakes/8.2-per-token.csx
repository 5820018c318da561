// Exercise 8.2: Switch load-balancing loss
// k = assignment.Length / N;  f_e = (assignments to e)/(N·k);  P_e = mean over tokens of probs[r, e];  loss = α·E·Σ f_e·P_e
// expect-hint: Your fractions look divided by N
float LoadBalancingLoss(float[] probs, int[] assignment, int n, int e, float alpha)
{
    int k = assignment.Length / n;
    var fraction = new float[e];
    foreach (int a in assignment)
    {
        fraction[a] += 1f / n; // the mistake: per token, not per assignment
    }

    float sum = 0;
    for (int j = 0; j < e; j++)
    {
        float meanP = 0;
        for (int r = 0; r < n; r++)
        {
            meanP += probs[r * e + j];
        }

        sum += fraction[j] * meanP / n;
    }

    return alpha * e * sum;
}
