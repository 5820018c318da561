namespace CourseLib.Interactive.Exercises;

/// <summary>
/// Math the exercises need that System.Math lacks: the error function, in double precision (|error| &lt; 1e-15),
/// so exercise cells can compute the exact GELU. The graders' expected values use the same function.
/// </summary>
public static class ExerciseMath
{
    private static readonly double TwoOverSqrtPi = 2.0 / Math.Sqrt(Math.PI);

    /// <summary>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series; below 2.5 the alternating terms stay small enough that cancellation costs < 2 digits.
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }

            r = sum * TwoOverSqrtPi;
        }
        else if (ax < 27)
        {
            // erfc by its continued fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))), evaluated from the tail;
            // it converges fast for x ≥ 2.5, and 1 − erfc keeps full precision there.
            double f = ax;
            for (int k = 120; k >= 1; k--)
            {
                f = ax + k * 0.5 / f;
            }

            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        else
        {
            r = 1.0;
        }

        return x < 0 ? -r : r;
    }

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
