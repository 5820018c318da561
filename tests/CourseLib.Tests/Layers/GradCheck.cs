using CourseLib.Checks;
using CourseLib.Layers;
using CourseLib.Models;
using CourseLib.Data;
using CourseLib.Tests.Support;

namespace CourseLib.Tests.Layers;

/// <summary>Finite-difference checks of a whole layer or model: input gradient and every parameter gradient.</summary>
internal static class GradCheck
{
    /// <summary>
    /// Loss L = Σ wᵢ·yᵢ with fixed random w, so dy = w. Tolerance: float32 forward passes at a step of 1% of the tensor RMS
    /// (large enough that the difference of two float losses keeps ~4 digits), so 2e-2 relative to the largest gradient.
    /// </summary>
    public static void Layer(Layer layer, float[] x, ForwardContext ctx, double rtol = 2e-2, int maxPerTensor = 40)
    {
        int n = ctx.Rows * layer.OutputSize;
        float[] w = Compare.Randn(n, 77);
        double Loss()
        {
            float[] y = layer.Forward(x, ctx);
            double s = 0;
            for (int i = 0; i < y.Length; i++)
            {
                s += (double)w[i] * y[i];
            }

            return s;
        }

        Loss();
        layer.ZeroGrad();
        float[] dx = (float[])layer.Backward(w).Clone();
        var analytic = layer.NamedParameters().Select(np => (np.Name, (float[])np.Parameter.Grad.Clone(), np.Parameter.Data)).ToList();
        Check("dx", x, dx, Loss, rtol, maxPerTensor);
        foreach (var (name, grad, data) in analytic)
        {
            Check(name, data, grad, Loss, rtol, maxPerTensor);
        }
    }

    /// <summary>The same for a model's scalar loss and every parameter.</summary>
    public static void Model(Model model, Batch batch, double rtol = 2e-2, int maxPerTensor = 30)
    {
        double Loss() => model.Forward(batch);
        Loss();
        model.ZeroGrad();
        model.Backward();
        foreach (var (name, p) in model.NamedParameters().ToList())
        {
            Check(name, p.Data, (float[])p.Grad.Clone(), Loss, rtol, maxPerTensor);
        }
    }

    /// <summary>Compares analytic and central-difference gradients on up to <paramref name="max"/> evenly spread elements.</summary>
    private static void Check(string what, float[] values, float[] analytic, Func<double> loss, double rtol, int max)
    {
        int stride = Math.Max(1, values.Length / max);
        var idx = Enumerable.Range(0, values.Length).Where(i => i % stride == 0).Take(max).ToArray();
        // Step relative to the tensor's scale: embeddings (~0.02) need a finer step than norm gains (~1), but a step
        // too small loses the difference between two float losses in rounding.
        double rms = Math.Sqrt(values.Select(v => (double)v * v).DefaultIfEmpty(0).Average());
        double h = Math.Clamp(1e-2 * rms, 1e-3, 1e-2);
        double[] num = GradientChecker.Numerical(values, loss, idx, h);
        float[] ana = idx.Select(i => analytic[i]).ToArray();
        loss();
        double scale = Math.Max(1e-2, num.Select(Math.Abs).DefaultIfEmpty(0).Max());
        Compare.Close(ana, num, 0, rtol * scale, what);
    }
}
