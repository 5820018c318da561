// Exercise 7.2: int8 per-channel weight quantization
// expect-hint: truncated toward zero
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
        scales[o] = max / 127f;
        for (int i = 0; i < cols; i++)
            q[o * cols + i] = max == 0 ? (sbyte)0 : (sbyte)(w[o * cols + i] / scales[o]); // the mistake: the cast truncates
    }

    return (q, scales);
}
