using CourseLib.Torch;
using TorchSharp;

namespace CourseLib.Torch.Tests;

public class TorchLoadTests
{
    [Fact]
    public void Torch_LoadsInTestHost_ReportsVersion()
    {
        string version = TorchRuntime.Initialize();
        Assert.StartsWith("2.", version, StringComparison.Ordinal);
    }

    [Fact]
    public void Torch_LayerNormForward_MatchesHandComputedValue()
    {
        TorchRuntime.Initialize();
        // x = [1, 2, 3, 4]: mean 2.5, biased variance 1.25, so LN(x)_i = (x_i - 2.5) / sqrt(1.25 + 1e-5).
        using var x = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 4);
        using var y = torch.nn.functional.layer_norm(x, new long[] { 4 }, eps: 1e-5);
        float[] got = y.data<float>().ToArray();
        double s = Math.Sqrt(1.25 + 1e-5);
        double[] want = { -1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s };
        for (int i = 0; i < 4; i++)
        {
            Assert.True(Math.Abs(got[i] - want[i]) < 1e-6, $"element {i}: got {got[i]}, want {want[i]}");
        }
    }

    [Fact]
    public void NativeShim_InTestHost_IsSatisfied()
    {
        // On Debian 12 the build made the wrapper and the generated .runsettings loaded it; elsewhere none is needed.
        Assert.True(NativeShim.IsSatisfied, $"wrapper at {NativeShim.Directory} is not loaded in the test host");
    }
}
