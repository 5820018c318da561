// Exercise 4.2: Residual block backward (dx, dα)
// expect-hint: the branch is multiplied by α, so its gradient is too
// y = x + α·F(x): the identity path hands dy back unchanged, the branch adds α·J_F(x)ᵀ·dy
(float[] dx, float dalpha) ResidualBackward(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha)
{
    float[] branch = sublayerBackward(dy);
    var dx = new float[dy.Length];
    float dalpha = 0;
    for (int i = 0; i < dy.Length; i++)
    {
        dx[i] = dy[i] + branch[i]; // the mistake: α forgotten on the way back
        dalpha += dy[i] * fx[i];
    }

    return (dx, dalpha);
}
