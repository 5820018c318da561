// Exercise 4.1: Residual block forward
// y = x + α·F(x): the shortcut carries x unchanged, the branch is scaled (α = 0: the block starts as the identity)
float[] ResidualForward(float[] x, Func<float[], float[]> sublayer, float scale)
{
    float[] fx = sublayer(x);
    var y = new float[x.Length];
    for (int i = 0; i < x.Length; i++)
    {
        y[i] = x[i] + scale * fx[i];
    }

    return y;
}
