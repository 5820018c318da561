// Exercise 7.2: int8 per-channel weight quantization
// One scale per output channel (row o of W [O, I]): scale = max|W[o, ·]| / 127, then round each weight to the nearest level
(sbyte[] q, float[] scales) QuantizeInt8(float[] w, int rows, int cols)
{
    var q = new sbyte[rows * cols];
    var scales = new float[rows];
    for (int o = 0; o < rows; o++)
    {
        float max = 0;
        for (int i = 0; i < cols; i++)
            max = Math.Max(max, Math.Abs(w[o * cols + i]));
        float scale = max / 127f;
        scales[o] = scale;
        if (scale == 0)
            continue; // an all-zero row: scale 0, levels 0
        for (int i = 0; i < cols; i++)
            q[o * cols + i] = (sbyte)Math.Clamp(Math.Round(w[o * cols + i] / scale), -127, 127);
    }

    return (q, scales);
}
