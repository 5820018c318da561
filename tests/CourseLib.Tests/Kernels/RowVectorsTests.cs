using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CourseLib.Kernels;

namespace CourseLib.Tests.Kernels;

public class RowVectorsTests
{
    [Fact]
    public void SumAcross_RandomAndSpecialLanes_EqualsVector512SumBitForBit()
    {
        // The four-row softmax, LayerNorm and attention kernels end each row with SumAcross where the one-row kernels
        // call Vector512.Sum; the two must agree bit for bit, or a row's result would depend on its position in a
        // block of four. Sums that round differently in another order are the point: lanes of mixed magnitudes.
        if (!Avx512F.IsSupported)
        {
            return;
        }

        var rng = new Random(17);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 1e-45f, 3.4e38f, -3.4e38f];
        float[] lanes = new float[16];
        for (int trial = 0; trial < 20_000; trial++)
        {
            for (int i = 0; i < 16; i++)
            {
                lanes[i] = (float)(rng.NextDouble() - 0.5) * MathF.Pow(10, rng.Next(-8, 9));
            }

            if (trial % 10 == 0)
            {
                lanes[rng.Next(16)] = specials[rng.Next(specials.Length)];
            }

            Vector512<float> v = Vector512.Create(lanes);
            float want = Vector512.Sum(v);
            Vector512<float> got = RowVectors.SumAcross(v);
            for (int lane = 0; lane < 16; lane++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got[lane]) || (float.IsNaN(want) && float.IsNaN(got[lane])),
                    $"trial {trial}, lane {lane}: SumAcross {got[lane]:R}, Vector512.Sum {want:R}, lanes [{string.Join(", ", lanes)}]");
            }
        }
    }
}
