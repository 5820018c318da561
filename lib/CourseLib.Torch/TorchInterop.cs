using TorchSharp;
using static TorchSharp.torch;

namespace CourseLib.Torch;

/// <summary>Moves float buffers in and out of libtorch, so a check runs the same data through both.</summary>
public static class TorchInterop
{
    /// <summary>A float32 CPU tensor with a copy of <paramref name="data"/> in the given shape.</summary>
    public static Tensor ToTensor(ReadOnlySpan<float> data, long[] shape, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(shape);
        TorchRuntime.Initialize();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length)
        {
            throw new ArgumentException($"data has {data.Length} elements but shape [{string.Join(", ", shape)}] needs {count}.", nameof(data));
        }

        Tensor t = tensor(data.ToArray(), shape, ScalarType.Float32);
        if (requiresGrad)
        {
            t.requires_grad_(true);
        }

        return t;
    }

    /// <summary>A copy of a tensor's elements (any shape, contiguous order) as float[].</summary>
    public static float[] ToArray(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using Tensor c = t.detach().to_type(ScalarType.Float32).contiguous();
        return c.data<float>().ToArray();
    }
}
