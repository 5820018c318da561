namespace CourseLib.Layers;

/// <summary>
/// A trainable tensor: its values, the gradient the backward pass accumulates into, and its shape. Row-major,
/// like everything the kernels touch. Gradients are never zeroed implicitly; call <see cref="ZeroGrad"/> (or
/// <see cref="Module.ZeroGrad"/>) before each backward pass.
/// </summary>
public sealed class Parameter
{
    /// <summary>A zero-filled parameter of the given shape.</summary>
    /// <param name="name">Local name inside its module (e.g. "weight"); <see cref="Module.NamedParameters"/> prefixes the path.</param>
    /// <param name="shape">Dimensions, e.g. [out, in] for a linear weight.</param>
    /// <param name="decay">Whether weight decay applies (false for biases, norm gains and scalar gates, as is usual).</param>
    public Parameter(string name, int[] shape, bool decay = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), $"Parameter '{name}' has shape [{string.Join(", ", shape)}]; every dimension must be positive.");
            }

            count *= d;
        }

        Name = name;
        Shape = (int[])shape.Clone();
        Data = new float[count];
        Grad = new float[count];
        Decay = decay;
    }

    /// <summary>Local name inside the owning module.</summary>
    public string Name { get; }

    /// <summary>Dimensions (a copy is kept; do not change).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values.</summary>
    public float[] Data { get; }

    /// <summary>dLoss/dData, accumulated by backward passes.</summary>
    public float[] Grad { get; }

    /// <summary>Number of elements.</summary>
    public int Count => Data.Length;

    /// <summary>Whether weight decay applies to this parameter.</summary>
    public bool Decay { get; }

    /// <summary>Shape as text, e.g. "[64, 256]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Sets every gradient element to zero.</summary>
    public void ZeroGrad() => Array.Clear(Grad);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {ShapeText}";
}
