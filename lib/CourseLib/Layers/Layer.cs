namespace CourseLib.Layers;

/// <summary>
/// The shape of the batch one forward pass sees: <see cref="Batch"/> sequences of <see cref="Time"/> positions, so
/// <see cref="Rows"/> = B·T rows of activations; T = 1 for vector models. <see cref="Training"/> switches
/// BatchNorm between batch and running statistics and turns dropout on.
/// </summary>
/// <param name="Batch">B, sequences (or samples).</param>
/// <param name="Time">T, positions per sequence.</param>
/// <param name="Training">Training mode (batch statistics, dropout) or evaluation mode.</param>
/// <param name="Step">Training step, used to derive per-step dropout seeds.</param>
public readonly record struct ForwardContext(int Batch, int Time = 1, bool Training = true, int Step = 0)
{
    /// <summary>N = B·T.</summary>
    public int Rows => Batch * Time;
}

/// <summary>
/// A module mapping activations x: [N, in] to y: [N, out] with an explicit backward pass (llm.c style): Forward
/// caches what Backward needs inside the layer; Backward takes dy, accumulates every parameter gradient and returns
/// dx. Buffers returned by both are owned by the layer and stay valid until its next call; the layer keeps a
/// reference to its input x, so callers must not overwrite x before Backward.
/// </summary>
public abstract class Layer : Module
{
    /// <summary>Features per input row.</summary>
    public abstract int InputSize { get; }

    /// <summary>Features per output row.</summary>
    public abstract int OutputSize { get; }

    /// <summary>The output of the last forward pass (for diagnostics such as locating the first NaN).</summary>
    public float[]? LastOutput { get; protected set; }

    /// <summary>y = f(x) for x: [ctx.Rows, InputSize]; returns a layer-owned [ctx.Rows, OutputSize] buffer.</summary>
    public abstract float[] Forward(float[] x, ForwardContext ctx);

    /// <summary>
    /// Given dy = dLoss/dy of the last forward pass, adds dLoss/dθ into every parameter's Grad and returns
    /// dx = dLoss/dx (a layer-owned buffer, freshly written).
    /// </summary>
    public abstract float[] Backward(float[] dy);

    /// <summary>Checks the input length against the layer's width and the context's rows.</summary>
    protected void CheckInput(float[] x, ForwardContext ctx, string name = "x")
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (ctx.Rows <= 0)
        {
            throw new ArgumentException($"The forward context has B·T = {ctx.Batch}·{ctx.Time} rows; it must be positive.", nameof(ctx));
        }

        if (x.Length != (long)ctx.Rows * InputSize)
        {
            throw new ArgumentException($"{GetType().Name}: {name} has {x.Length} elements but N·{InputSize} = {ctx.Rows}·{InputSize} = {(long)ctx.Rows * InputSize} were expected.", name);
        }
    }

    /// <summary>Checks dy against the shape of the last forward pass.</summary>
    protected void CheckGradient(float[] dy, int rows, int size)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (rows == 0)
        {
            throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");
        }

        if (dy.Length != (long)rows * size)
        {
            throw new ArgumentException($"{GetType().Name}: dy has {dy.Length} elements but N·{size} = {rows}·{size} = {(long)rows * size} were expected (the shape of the last forward pass).", nameof(dy));
        }
    }

    /// <summary>Returns <paramref name="buffer"/> if it has <paramref name="length"/> elements, else a new one (kept in it).</summary>
    protected static float[] Ensure(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length != length)
        {
            buffer = new float[length];
        }

        return buffer;
    }
}
