namespace CourseLib.Data;

/// <summary>
/// One minibatch, in the flat row-major layout the kernels use. Token tasks fill <see cref="Tokens"/> [B, T] and
/// <see cref="Labels"/> [B, T] (−1 = position not scored); vector tasks fill <see cref="Inputs"/> [B, Features] and
/// either <see cref="Labels"/> [B] (classification) or <see cref="Values"/> [B, Outputs] (regression).
/// </summary>
public sealed record Batch
{
    /// <summary>B: sequences (or samples) in the batch.</summary>
    public required int Size { get; init; }

    /// <summary>T: positions per sequence; 1 for vector tasks.</summary>
    public int Time { get; init; } = 1;

    /// <summary>Input token ids [B·T], or null for vector tasks.</summary>
    public int[]? Tokens { get; init; }

    /// <summary>Input features [B·Features], or null for token tasks.</summary>
    public float[]? Inputs { get; init; }

    /// <summary>Features per sample of <see cref="Inputs"/>.</summary>
    public int Features { get; init; }

    /// <summary>Class targets, one per row (B·T); −1 means "ignore this row in the loss".</summary>
    public int[]? Labels { get; init; }

    /// <summary>Regression targets [B·Outputs], or null.</summary>
    public float[]? Values { get; init; }

    /// <summary>Outputs per sample of <see cref="Values"/>.</summary>
    public int Outputs { get; init; }

    /// <summary>Rows the kernels see: B·T.</summary>
    public int Rows => Size * Time;

    /// <summary>A token batch: <paramref name="tokens"/> and <paramref name="labels"/> are [B·T].</summary>
    public static Batch ForTokens(int size, int time, int[] tokens, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(labels);
        RequireLength(tokens.Length, (long)size * time, nameof(tokens), $"B·T = {size}·{time}");
        RequireLength(labels.Length, (long)size * time, nameof(labels), $"B·T = {size}·{time}");
        return new Batch { Size = size, Time = time, Tokens = tokens, Labels = labels };
    }

    /// <summary>A classification batch: <paramref name="inputs"/> [B, features], <paramref name="labels"/> [B].</summary>
    public static Batch ForClasses(int size, int features, float[] inputs, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        RequireLength(inputs.Length, (long)size * features, nameof(inputs), $"B·features = {size}·{features}");
        RequireLength(labels.Length, size, nameof(labels), "B");
        return new Batch { Size = size, Features = features, Inputs = inputs, Labels = labels };
    }

    /// <summary>A regression batch: <paramref name="inputs"/> [B, features], <paramref name="values"/> [B, outputs].</summary>
    public static Batch ForRegression(int size, int features, float[] inputs, int outputs, float[] values)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(values);
        RequireLength(inputs.Length, (long)size * features, nameof(inputs), $"B·features = {size}·{features}");
        RequireLength(values.Length, (long)size * outputs, nameof(values), $"B·outputs = {size}·{outputs}");
        return new Batch { Size = size, Features = features, Inputs = inputs, Outputs = outputs, Values = values };
    }

    private static void RequireLength(int actual, long expected, string name, string shape)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements but {shape} = {expected} were expected.", name);
        }
    }
}
