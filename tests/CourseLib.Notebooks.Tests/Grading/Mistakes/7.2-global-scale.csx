// Exercise 7.2: int8 per-channel weight quantization
// expect-hint: one scale for the whole matrix
// One scale per output channel (row o of W [O, I]): scale = max|W[o, ·]| / 127, then round each weight to the nearest level
(sbyte[] q, float[] scales) QuantizeInt8(float[] w, int rows, int cols)
{
    float max = 0;
    foreach (float v in w)
        max = Math.Max(max, Math.Abs(v)); // the mistake: the maximum over the whole matrix
    float scale = max / 127f;
    var q = new sbyte[rows * cols];
    var scales = new float[rows];
    for (int o = 0; o < rows; o++)
    {
        scales[o] = scale;
        for (int i = 0; i < cols; i++)
            q[o * cols + i] = scale == 0 ? (sbyte)0 : (sbyte)Math.Round(w[o * cols + i] / scale);
    }

    return (q, scales);
}
