// Exercise 4.2: Residual block backward (dx, dα)
// expect-hint: missing the identity path
// y = x + α·F(x): the identity path hands dy back unchanged, the branch adds α·J_F(x)ᵀ·dy
(float[] dx, float dalpha) ResidualBackward(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha)
{
    float[] branch = sublayerBackward(dy);
    var dx = new float[dy.Length];
    float dalpha = 0;
    for (int i = 0; i < dy.Length; i++)
    {
        dx[i] = alpha * branch[i]; // the mistake: only the branch, as in a plain network
        dalpha += dy[i] * fx[i];
    }

    return (dx, dalpha);
}
