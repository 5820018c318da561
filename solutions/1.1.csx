// Exercise 1.1: FFN forward (ReLU MLP)
// x: [T, C], w1: [4C, C], b1: [4C], w2: [C, 4C], b2: [C]  (nn.Linear layout: W is [out, in])
// y = ReLU(x·W₁ᵀ + b₁)·W₂ᵀ + b₂
float[] FfnForward(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)
{
    int h = 4 * c;
    var hidden = new float[h];
    var y = new float[t * c];
    for (int r = 0; r < t; r++)
    {
        for (int j = 0; j < h; j++)
        {
            float s = b1[j];
            for (int i = 0; i < c; i++)
            {
                s += x[r * c + i] * w1[j * c + i];
            }

            hidden[j] = Math.Max(0f, s);
        }

        for (int o = 0; o < c; o++)
        {
            float s = b2[o];
            for (int j = 0; j < h; j++)
            {
                s += hidden[j] * w2[o * h + j];
            }

            y[r * c + o] = s;
        }
    }

    return y;
}
