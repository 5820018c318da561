namespace CourseLib.Training;

/// <summary>The learning rate as a function of the (0-based) step.</summary>
public interface ILearningRateSchedule
{
    /// <summary>Learning rate for step <paramref name="step"/> (0-based).</summary>
    double At(int step);
}

/// <summary>lr = <paramref name="Peak"/> at every step.</summary>
/// <param name="Peak">The learning rate.</param>
public sealed record ConstantSchedule(double Peak) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double At(int step) => Peak;
}

/// <summary>Linear warm-up: lr = Peak·min(1, (step+1)/Warmup), then constant.</summary>
/// <param name="Peak">Learning rate after warm-up.</param>
/// <param name="Warmup">Warm-up steps (0 = none).</param>
public sealed record LinearWarmupSchedule(double Peak, int Warmup) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double At(int step) => Warmup <= 0 ? Peak : Peak * Math.Min(1.0, (step + 1.0) / Warmup);
}

/// <summary>
/// Linear warm-up to Peak, then cosine decay to Min at step Total: lr = Min + (Peak − Min)·(1 + cos(π·p))/2 with
/// p the fraction of the decay phase done; Min after Total.
/// </summary>
/// <param name="Peak">Learning rate at the end of warm-up.</param>
/// <param name="Warmup">Warm-up steps.</param>
/// <param name="Total">Step at which the decay reaches Min.</param>
/// <param name="Min">Final learning rate (0 by default, as in the cosine schedules of GPT-style training).</param>
public sealed record WarmupCosineSchedule(double Peak, int Warmup, int Total, double Min = 0) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double At(int step)
    {
        if (step < Warmup)
        {
            return Peak * (step + 1.0) / Warmup;
        }

        if (step >= Total)
        {
            return Min;
        }

        double p = (double)(step - Warmup) / Math.Max(1, Total - Warmup);
        return Min + (Peak - Min) * 0.5 * (1 + Math.Cos(Math.PI * p));
    }
}

/// <summary>
/// The original Transformer's schedule (Vaswani et al. 2017, eq. 3) normalised to reach Peak at the end of warm-up:
/// lr = Peak·min((step+1)/Warmup, √(Warmup/(step+1))).
/// </summary>
/// <param name="Peak">Learning rate at the end of warm-up.</param>
/// <param name="Warmup">Warm-up steps (≥ 1).</param>
public sealed record InverseSqrtSchedule(double Peak, int Warmup) : ILearningRateSchedule
{
    /// <inheritdoc />
    public double At(int step)
    {
        double s = step + 1.0, w = Math.Max(1, Warmup);
        return Peak * Math.Min(s / w, Math.Sqrt(w / s));
    }
}
