// Exercise 4.2: Residual block backward (dx, dα)
// y = x + α·F(x): the identity path hands dy back unchanged, the branch adds α·J_F(x)ᵀ·dy;
// y is linear in α, so dα = Σ dy ⊙ F(x) (summed over every row and feature: α is one scalar)
(float[] dx, float dalpha) ResidualBackward(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha)
{
    float[] branch = sublayerBackward(dy);
    var dx = new float[dy.Length];
    float dalpha = 0;
    for (int i = 0; i < dy.Length; i++)
    {
        dx[i] = dy[i] + alpha * branch[i];
        dalpha += dy[i] * fx[i];
    }

    return (dx, dalpha);
}
