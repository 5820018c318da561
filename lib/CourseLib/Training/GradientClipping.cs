using CourseLib.Layers;

namespace CourseLib.Training;

/// <summary>Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_.</summary>
public static class GradientClipping
{
    /// <summary>‖g‖₂ over every gradient element of <paramref name="parameters"/>, accumulated in double.</summary>
    public static double GlobalNorm(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double sum = 0;
        foreach (Parameter p in parameters)
        {
            sum += SumOfSquares(p.Grad);
        }

        return Math.Sqrt(sum);
    }

    /// <summary>
    /// If the global norm exceeds <paramref name="maxNorm"/>, scales every gradient by maxNorm/(norm + 1e-6)
    /// (PyTorch's formula). Returns the norm before clipping.
    /// </summary>
    public static double ClipGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        var list = parameters as IReadOnlyList<Parameter> ?? parameters.ToList();
        double norm = GlobalNorm(list);
        if (norm > maxNorm)
        {
            float scale = (float)(maxNorm / (norm + 1e-6));
            foreach (Parameter p in list)
            {
                float[] g = p.Grad;
                for (int i = 0; i < g.Length; i++)
                {
                    g[i] *= scale;
                }
            }
        }

        return norm;
    }

    internal static double SumOfSquares(ReadOnlySpan<float> a)
    {
        double s = 0;
        foreach (float v in a)
        {
            s += (double)v * v;
        }

        return s;
    }
}
