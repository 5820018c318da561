using CourseLib.Checks;
using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// LayerNorm over the last axis of x[N, C]: μ = mean(x), σ² = mean((x − μ)²) (biased, as PyTorch and the
/// library), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β.
/// 3.1 is the forward pass; 3.2 the backward pass: with g = dy·γ,
/// dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε), dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
/// </summary>
internal static class Lesson3Exercises
{
    public static ExerciseSpec<Func<float[], float[], float[], int, int, float, float[]>> Forward { get; } = new(
        "3.1", "LayerNorm forward", 2, "LayerNormForward",
        "float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps)",
        LibraryImplementations.LayerNormForward,
        () =>
        [
            FwdCase("N=2, C=8", false, 31, 2, 8, 1e-5f),
            FwdCase("N=4, C=3, ε=0.1 (a large ε shows where it goes)", false, 32, 4, 3, 0.1f),
            FwdCase("N=1, C=1: variance 0, y = β", true, 33, 1, 1, 1e-5f),
            FwdCase("constant rows: variance 0", true, 34, 3, 5, 1e-5f, constantRows: true),
            FwdCase("rows with a large offset (mean 50, std 1)", true, 35, 4, 64, 1e-5f, offset: 50),
            FwdCase("odd shape N=5, C=257", true, 36, 5, 257, 1e-5f),
            FwdCase("N=3, C=6, ε=0.5", true, 37, 3, 6, 0.5f),
        ],
        [
            new("bessel", "Your variance looks divided by C − 1 (Bessel's correction). LayerNorm uses the biased variance: σ² = (1/C)·Σ(x − μ)².",
                (x, g, b, n, c, eps) => ToFloat(ForwardOracle(x, g, b, n, c, eps, bessel: true))),
            new("eps-outside-sqrt", "ε looks added outside the square root. Normalise by √(σ² + ε), not √σ² + ε.",
                (x, g, b, n, c, eps) => ToFloat(ForwardOracle(x, g, b, n, c, eps, epsOutside: true))),
            new("gamma-beta-swapped", "γ and β look swapped: scale by γ (gamma), then shift by β (beta): y = γ·x̂ + β.",
                (x, g, b, n, c, eps) => ToFloat(ForwardOracle(x, b, g, n, c, eps))),
            new("no-affine", "Your output matches x̂ without γ and β: finish with y = γ·x̂ + β.",
                (x, g, b, n, c, eps) => ToFloat(ForwardOracle(x, Fill(c, 1), new float[c], n, c, eps))),
        ]);

    public static ExerciseSpec<Func<float[], float[], float[], int, int, float, (float[] Dx, float[] DGamma, float[] DBeta)>> Backward { get; } = new(
        "3.2", "LayerNorm backward (dx, dγ, dβ)", 3, "LayerNormBackward",
        "(float[] dx, float[] dgamma, float[] dbeta) LayerNormBackward(float[] dy, float[] x, float[] gamma, int n, int c, float eps)",
        LibraryImplementations.LayerNormBackward,
        () =>
        [
            BwdCase("N=2, C=6", false, 41, 2, 6),
            BwdCase("N=3, C=4", false, 42, 3, 4),
            BwdCase("N=1, C=1", true, 43, 1, 1),
            BwdCase("odd shape N=4, C=33", true, 44, 4, 33),
            BwdCase("rows with a large offset (mean 50)", true, 45, 3, 16, offset: 50),
            FiniteDifferenceCase(),
        ],
        [
            new("missing-mean-term", "dx is missing the mean term: the mean μ depends on every x, so subtract mean(g) too — dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε), with g = dy·γ.",
                (dy, x, g, n, c, eps) => BackwardOracle(dy, x, g, n, c, eps, noMeanTerm: true)),
            new("missing-xhat-term", "dx is missing the variance term: σ² depends on every x, which gives − x̂·mean(g·x̂) — dx = (g − mean(g) − x̂·mean(g·x̂))/√(σ² + ε).",
                (dy, x, g, n, c, eps) => BackwardOracle(dy, x, g, n, c, eps, noXhatTerm: true)),
            new("dgamma-without-xhat", "dγ looks like Σ dy: γ multiplies x̂, so dγ = Σ_rows dy·x̂ (dβ = Σ_rows dy is the one without x̂).",
                (dy, x, g, n, c, eps) => BackwardOracle(dy, x, g, n, c, eps, dgammaWithoutXhat: true)),
            new("dx-without-gamma", "dx looks computed from dy instead of g = dy·γ: the gradient reaches x̂ through γ.",
                (dy, x, g, n, c, eps) => BackwardOracle(dy, x, g, n, c, eps, dxWithoutGamma: true)),
        ]);

    private static ExerciseCase<Func<float[], float[], float[], int, int, float, float[]>> FwdCase(
        string name, bool hidden, int seed, int n, int c, float eps, bool constantRows = false, double offset = 0)
    {
        float[] x = constantRows ? Fill(n * c, 1.5f) : Normal(seed, n * c, 1.0, offset);
        float[] gamma = Normal(seed + 100, c, 0.5, 1.0);
        float[] beta = Normal(seed + 200, c, 0.5);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x), gi = Copy(gamma), bi = Copy(beta);
                float[] y = f(xi, gi, bi, n, c, eps);
                Unchanged("x", x, xi);
                Unchanged("gamma", gamma, gi);
                Unchanged("beta", beta, bi);
                return [Out("y", y)];
            },
            () => [Out("y", ForwardOracle(x, gamma, beta, n, c, eps))],
            Tolerance.Forward);
    }

    private static ExerciseCase<Func<float[], float[], float[], int, int, float, (float[], float[], float[])>> BwdCase(
        string name, bool hidden, int seed, int n, int c, double offset = 0)
    {
        const float eps = 1e-5f;
        float[] x = Normal(seed, n * c, 1.0, offset);
        float[] gamma = Normal(seed + 100, c, 0.5, 1.0);
        float[] dy = Normal(seed + 200, n * c);
        return new(name, hidden, f => CallBackward(f, dy, x, gamma, n, c, eps),
            () => Outputs(BackwardOracle(dy, x, gamma, n, c, eps)), Tolerance.Backward);
    }

    // The analytic formula is checked against the slope of the forward pass itself: L = Σ dy·LN(x; γ, β).
    private static ExerciseCase<Func<float[], float[], float[], int, int, float, (float[], float[], float[])>> FiniteDifferenceCase()
    {
        const int n = 3, c = 5;
        const float eps = 1e-5f;
        float[] x = Normal(46, n * c);
        float[] gamma = Normal(47, c, 0.5, 1.0);
        float[] beta = Normal(48, c, 0.5);
        float[] dy = Normal(49, n * c);
        return new("finite differences of the forward pass (GradientChecker)", true, f => CallBackward(f, dy, x, gamma, n, c, eps),
            () =>
            {
                float[] xp = Copy(x), gp = Copy(gamma), bp = Copy(beta);
                double Loss()
                {
                    double[] y = ForwardOracle(xp, gp, bp, n, c, eps);
                    double s = 0;
                    for (int i = 0; i < y.Length; i++)
                    {
                        s += dy[i] * y[i];
                    }

                    return s;
                }

                return [Out("dx", GradientChecker.Numerical(xp, Loss)), Out("dgamma", GradientChecker.Numerical(gp, Loss)), Out("dbeta", GradientChecker.Numerical(bp, Loss))];
            },
            Tolerance.Backward);
    }

    private static CaseOutput[] CallBackward(Func<float[], float[], float[], int, int, float, (float[], float[], float[])> f,
        float[] dy, float[] x, float[] gamma, int n, int c, float eps)
    {
        float[] dyi = Copy(dy), xi = Copy(x), gi = Copy(gamma);
        (float[] dx, float[] dg, float[] db) = f(dyi, xi, gi, n, c, eps);
        Unchanged("dy", dy, dyi);
        Unchanged("x", x, xi);
        Unchanged("gamma", gamma, gi);
        return Outputs((dx, dg, db));
    }

    private static CaseOutput[] Outputs((float[] Dx, float[] DGamma, float[] DBeta) g) =>
        [Out("dx", g.Dx), Out("dgamma", g.DGamma), Out("dbeta", g.DBeta)];

    internal static double[] ForwardOracle(float[] x, float[] gamma, float[] beta, int n, int c, float eps,
        bool bessel = false, bool epsOutside = false)
    {
        var y = new double[n * c];
        for (int r = 0; r < n; r++)
        {
            (double mean, double rstd) = Stats(x, r, c, eps, bessel, epsOutside);
            for (int j = 0; j < c; j++)
            {
                y[r * c + j] = (x[r * c + j] - mean) * rstd * gamma[j] + beta[j];
            }
        }

        return y;
    }

    private static (double Mean, double Rstd) Stats(float[] x, int r, int c, float eps, bool bessel = false, bool epsOutside = false)
    {
        double mean = 0;
        for (int j = 0; j < c; j++)
        {
            mean += x[r * c + j];
        }

        mean /= c;
        double ss = 0;
        for (int j = 0; j < c; j++)
        {
            double d = x[r * c + j] - mean;
            ss += d * d;
        }

        double variance = ss / (bessel ? c - 1 : c);
        double rstd = epsOutside ? 1.0 / (Math.Sqrt(variance) + eps) : 1.0 / Math.Sqrt(variance + eps);
        return (mean, rstd);
    }

    internal static (float[] Dx, float[] DGamma, float[] DBeta) BackwardOracle(float[] dy, float[] x, float[] gamma, int n, int c, float eps,
        bool noMeanTerm = false, bool noXhatTerm = false, bool dgammaWithoutXhat = false, bool dxWithoutGamma = false)
    {
        var dx = new double[n * c];
        var dgamma = new double[c];
        var dbeta = new double[c];
        var xhat = new double[c];
        var g = new double[c];
        for (int r = 0; r < n; r++)
        {
            (double mean, double rstd) = Stats(x, r, c, eps);
            double meanG = 0, meanGx = 0;
            for (int j = 0; j < c; j++)
            {
                int i = r * c + j;
                xhat[j] = (x[i] - mean) * rstd;
                g[j] = dxWithoutGamma ? dy[i] : dy[i] * gamma[j];
                meanG += g[j];
                meanGx += g[j] * xhat[j];
                dgamma[j] += dgammaWithoutXhat ? dy[i] : dy[i] * xhat[j];
                dbeta[j] += dy[i];
            }

            meanG /= c;
            meanGx /= c;
            for (int j = 0; j < c; j++)
            {
                dx[r * c + j] = (g[j] - (noMeanTerm ? 0 : meanG) - (noXhatTerm ? 0 : xhat[j] * meanGx)) * rstd;
            }
        }

        return (ToFloat(dx), ToFloat(dgamma), ToFloat(dbeta));
    }
}
