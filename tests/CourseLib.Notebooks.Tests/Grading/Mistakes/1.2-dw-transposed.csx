// Exercise 1.2: FFN backward (dx, dW₁, db₁, dW₂, db₂)
// expect-hint: look transposed
// Forward: h = x·W₁ᵀ + b₁ [T, 4C], a = ReLU(h), y = a·W₂ᵀ + b₂.  Backward, given dy = ∂L/∂y [T, C]:
//   dW₂ = dyᵀ·a [C, 4C],  db₂ = Σₜ dy,  da = dy·W₂ [T, 4C],  dh = da ⊙ [h > 0],
//   dW₁ = dhᵀ·x [4C, C],  db₁ = Σₜ dh,  dx = dh·W₁ [T, C]
(float[] dx, float[] dw1, float[] db1, float[] dw2, float[] db2) FfnBackward(float[] dy, float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c)
{
    int h = 4 * c;
    var dx = new float[t * c];
    var dw1 = new float[h * c];
    var db1 = new float[h];
    var dw2 = new float[c * h];
    var db2 = new float[c];
    var pre = new float[h];
    for (int r = 0; r < t; r++)
    {
        // Recompute this row's hidden layer (the forward pass keeps nothing for us).
        for (int j = 0; j < h; j++)
        {
            float s = b1[j];
            for (int i = 0; i < c; i++)
            {
                s += x[r * c + i] * w1[j * c + i];
            }

            pre[j] = s;
        }

        for (int o = 0; o < c; o++)
        {
            float g = dy[r * c + o];
            db2[o] += g;
            for (int j = 0; j < h; j++)
            {
                dw2[j * c + o] += g * Math.Max(0f, pre[j]); // the mistake: stored as [4C, C]
            }
        }

        for (int j = 0; j < h; j++)
        {
            if (pre[j] <= 0)
            {
                continue; // ReLU passed nothing here, so no gradient flows back through unit j
            }

            float dh = 0;
            for (int o = 0; o < c; o++)
            {
                dh += dy[r * c + o] * w2[o * h + j];
            }

            db1[j] += dh;
            for (int i = 0; i < c; i++)
            {
                dw1[i * h + j] += dh * x[r * c + i]; // the mistake: stored as [C, 4C]
                dx[r * c + i] += dh * w1[j * c + i];
            }
        }
    }

    return (dx, dw1, db1, dw2, db2);
}
