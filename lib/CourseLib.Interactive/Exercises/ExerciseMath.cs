namespace CourseLib.Interactive.Exercises;

/// <summary>
/// Math the exercises need that System.Math lacks: the error function, in double precision,
/// so exercise cells can compute the exact GELU. The graders' expected values use the same function.
/// </summary>
public static class ExerciseMath
{
    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, in double (the library's <see cref="CourseLib.Checks.ReferenceMath.Erf"/>).</summary>
    public static double Erf(double x) => CourseLib.Checks.ReferenceMath.Erf(x);

    /// <summary>erf in float, computed in double.</summary>
    public static float Erf(float x) => (float)Erf((double)x);

    /// <summary>Exact GELU in double: x·Φ(x) = ½x(1 + erf(x/√2)).</summary>
    internal static double Gelu(double x) => 0.5 * x * (1.0 + Erf(x / Math.Sqrt(2.0)));

    /// <summary>d/dx GELU(x) = Φ(x) + x·φ(x).</summary>
    internal static double GeluDerivative(double x) =>
        0.5 * (1.0 + Erf(x / Math.Sqrt(2.0))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2.0 * Math.PI);

    /// <summary>The tanh approximation (Hendrycks and Gimpel 2016): ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    internal static double GeluTanh(double x) =>
        0.5 * x * (1.0 + Math.Tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>Derivative of the tanh approximation.</summary>
    internal static double GeluTanhDerivative(double x)
    {
        double k = Math.Sqrt(2.0 / Math.PI);
        double u = k * (x + 0.044715 * x * x * x);
        double t = Math.Tanh(u);
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x);
    }
}
