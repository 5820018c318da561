namespace CourseLib.Layers;

/// <summary>
/// A trainable tensor: its values, the gradient the backward pass accumulates into, and its shape. Row-major,
/// like everything the kernels touch. Gradients are never zeroed implicitly; call <see cref="ZeroGrad"/> (or
/// <see cref="Module.ZeroGrad"/>) before each backward pass.
/// </summary>
public sealed class Parameter
{
    private readonly float[] _grad;
    private bool _zeroPending;   // ZeroGrad was called and _grad not cleared yet

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
        _grad = new float[count];
        Decay = decay;
    }

    /// <summary>Local name inside the owning module.</summary>
    public string Name { get; }

    /// <summary>Dimensions (a copy is kept; do not change).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values.</summary>
    public float[] Data { get; }

    /// <summary>dLoss/dData, accumulated by backward passes (zeros after <see cref="ZeroGrad"/>).</summary>
    public float[] Grad
    {
        get
        {
            if (_zeroPending)
            {
                Array.Clear(_grad);
                _zeroPending = false;
            }

            return _grad;
        }
    }

    /// <summary>Number of elements.</summary>
    public int Count => Data.Length;

    /// <summary>Whether weight decay applies to this parameter.</summary>
    public bool Decay { get; }

    /// <summary>Shape as text, e.g. "[64, 256]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>
    /// Sets every gradient element to zero. The clearing is deferred to the next read of <see cref="Grad"/>, and a
    /// backward pass that computes a whole gradient (a linear layer's dW) writes it instead of adding to zeros, so a
    /// training step does not sweep every weight gradient once more just to clear it. An array taken from
    /// <see cref="Grad"/> before this call keeps its values until <see cref="Grad"/> is read again (like an old
    /// <c>.grad</c> tensor after PyTorch's <c>zero_grad()</c>, which sets it to None).
    /// </summary>
    public void ZeroGrad() => _zeroPending = true;

    /// <summary>
    /// The gradient array for a backward pass that will write every element: <paramref name="overwrite"/> is true when
    /// the gradient is (pending) zero, so the pass may store dL/dθ instead of adding it; otherwise it must add.
    /// </summary>
    internal float[] GradForWrite(out bool overwrite)
    {
        overwrite = _zeroPending;
        _zeroPending = false;
        return _grad;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {ShapeText}";
}
