using CourseLib.Checks;
using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 2.1 exact GELU, y = x·Φ(x) = ½x(1 + erf(x/√2)); 2.2 its derivative, GELU′(x) = Φ(x) + x·φ(x).
/// </summary>
internal static class Lesson2Exercises
{
    private static readonly float[] EdgeValues = [0f, -0f, 1e-8f, -1e-8f, 3f, -3f, 10f, -10f, 30f, -30f];

    public static ExerciseSpec<Func<float[], float[]>> GeluForward { get; } = new(
        "2.1", "GELU (exact) forward", 1, "GeluForward", "float[] GeluForward(float[] x)",
        LibraryImplementations.GeluForward,
        () =>
        [
            Forward("x from −4 to 4", false, Range(-4, 4, 17)),
            Forward("32 values from N(0, 1)", false, Normal(21, 32)),
            Forward("edge values (±0, tiny, ±3, ±10, ±30)", true, EdgeValues),
            Forward("1000 values from N(0, 9)", true, Normal(22, 1000, 3.0)),
            Forward("empty input", true, []),
        ],
        [
            new("tanh-form", "Your values match the tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))). This exercise asks for the exact GELU: ½x(1 + erf(x/√2)) — ExerciseMath.Erf gives you erf.",
                x => Map(x, ExerciseMath.GeluTanh)),
            new("sigmoid-form", "Your values match the sigmoid approximation x·σ(1.702x). This exercise asks for the exact GELU: ½x(1 + erf(x/√2)).",
                x => Map(x, v => v / (1 + Math.Exp(-1.702 * v)))),
            new("erf-without-sqrt2", "Your values match ½x(1 + erf(x)): Φ(x) = ½(1 + erf(x/√2)) — divide by √2 inside erf.",
                x => Map(x, v => 0.5 * v * (1 + ExerciseMath.Erf(v)))),
        ]);

    public static ExerciseSpec<Func<float[], float[]>> GeluDerivative { get; } = new(
        "2.2", "GELU derivative", 1, "GeluDerivative", "float[] GeluDerivative(float[] x)",
        LibraryImplementations.GeluDerivative,
        () =>
        [
            Derivative("x from −4 to 4", false, Range(-4, 4, 17)),
            Derivative("32 values from N(0, 1)", false, Normal(23, 32)),
            Derivative("edge values (±0, tiny, ±3, ±10, ±30)", true, EdgeValues),
            Derivative("1000 values from N(0, 9)", true, Normal(24, 1000, 3.0)),
            FiniteDifferences(),
        ],
        [
            new("missing-x-phi", "Your values match Φ(x) alone. By the product rule, d/dx [x·Φ(x)] = Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π).",
                x => Map(x, v => 0.5 * (1 + ExerciseMath.Erf(v / Math.Sqrt(2))))),
            new("tanh-derivative", "Your values match the derivative of the tanh approximation. Differentiate the exact form: GELU′(x) = Φ(x) + x·φ(x).",
                x => Map(x, ExerciseMath.GeluTanhDerivative)),
            new("phi-unnormalised", "Your values match Φ(x) + x·e^(−x²/2): the normal density φ(x) = e^(−x²/2)/√(2π) needs its 1/√(2π).",
                x => Map(x, v => 0.5 * (1 + ExerciseMath.Erf(v / Math.Sqrt(2))) + v * Math.Exp(-0.5 * v * v))),
            new("minus-x-phi", "Your values match Φ(x) − x·φ(x): the product rule adds the two terms, Φ(x) + x·φ(x).",
                x => Map(x, v => 0.5 * (1 + ExerciseMath.Erf(v / Math.Sqrt(2))) - v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI))),
        ]);

    private static float[] Map(float[] x, Func<double, double> f) => Array.ConvertAll(x, v => (float)f(v));

    private static ExerciseCase<Func<float[], float[]>> Forward(string name, bool hidden, float[] x) =>
        new(name, hidden, f => Call(f, x, "y"), () => [Out("y", Map(x, ExerciseMath.Gelu))], Tolerance.Forward);

    private static ExerciseCase<Func<float[], float[]>> Derivative(string name, bool hidden, float[] x) =>
        new(name, hidden, f => Call(f, x, "dy/dx"), () => [Out("dy/dx", Map(x, ExerciseMath.GeluDerivative))], Tolerance.Backward);

    // Independent of the closed form: the slope of the exact GELU measured by central differences.
    private static ExerciseCase<Func<float[], float[]>> FiniteDifferences()
    {
        float[] x = Normal(25, 24, 1.5);
        return new("finite differences of GELU (GradientChecker)", true, f => Call(f, x, "dy/dx"),
            () =>
            {
                float[] probe = Copy(x);
                double[] g = GradientChecker.Numerical(probe, () => probe.Sum(v => ExerciseMath.Gelu(v)));
                return [Out("dy/dx", g)];
            },
            Tolerance.Backward);
    }

    private static CaseOutput[] Call(Func<float[], float[]> f, float[] x, string output)
    {
        float[] xi = Copy(x);
        float[] y = f(xi);
        Unchanged("x", x, xi);
        return [Out(output, y)];
    }
}
