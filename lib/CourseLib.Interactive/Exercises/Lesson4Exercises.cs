using CourseLib.Checks;
using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 4.1 residual block with a scaled branch: y = x + α·F(x) (α = 1 is the plain residual of He et al. 2016;
/// α = 0 at initialisation is ReZero/SkipInit, where every block starts as the identity).
/// 4.2 its backward pass: dx = dy + α·J_F(x)ᵀ·dy (the identity path passes dy through unchanged) and, for a learned
/// α as in ReZero, dα = Σ dy ⊙ F(x). The learner gets F(x) as cached by the forward pass and J_F(x)ᵀ as a function.
/// </summary>
internal static class Lesson4Exercises
{
    public static ExerciseSpec<Func<float[], Func<float[], float[]>, float, float[]>> Residual { get; } = new(
        "4.1", "Residual block forward", 1, "ResidualForward",
        "float[] ResidualForward(float[] x, Func<float[], float[]> sublayer, float scale)",
        LibraryImplementations.ResidualForward,
        () =>
        [
            Case("N=2, C=4, α=0.5", false, 51, 2, 4, 0.5f),
            Case("N=3, C=3, α=1", false, 52, 3, 3, 1f),
            Case("α=0 (ReZero at initialisation): y = x", true, 53, 2, 5, 0f),
            Case("α=−2", true, 54, 4, 6, -2f),
            Case("N=1, C=1", true, 55, 1, 1, 0.25f),
            Case("odd shape N=6, C=17", true, 56, 6, 17, 0.3f),
        ],
        [
            new("no-shortcut", "Your output is α·F(x) alone: the residual adds the input back, y = x + α·F(x).",
                (x, f, a) => Combine(x, f(x), (xi, fi) => a * fi)),
            new("scaled-shortcut", "You scaled the shortcut instead of the branch: y = x + α·F(x), not α·x + F(x).",
                (x, f, a) => Combine(x, f(x), (xi, fi) => a * xi + fi)),
            new("scale-ignored", "Your output is x + F(x): multiply the branch by the scale α, y = x + α·F(x).",
                (x, f, a) => Combine(x, f(x), (xi, fi) => xi + fi)),
            new("scaled-both", "You scaled the sum: y = x + α·F(x), not α·(x + F(x)).",
                (x, f, a) => Combine(x, f(x), (xi, fi) => a * (xi + fi))),
        ]);

    public static ExerciseSpec<Func<float[], float[], Func<float[], float[]>, float, (float[] Dx, float DAlpha)>> Backward { get; } = new(
        "4.2", "Residual block backward (dx, dα)", 2, "ResidualBackward",
        "(float[] dx, float dalpha) ResidualBackward(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha)",
        LibraryImplementations.ResidualBackward,
        () =>
        [
            BwdCase("N=2, C=4, α=0.5", false, 71, 2, 4, 0.5f),
            BwdCase("N=3, C=3, α=−1.5", false, 72, 3, 3, -1.5f),
            BwdCase("α=0 (ReZero at initialisation): dx = dy", true, 73, 2, 5, 0f),
            BwdCase("α=1 (the plain residual)", true, 74, 4, 6, 1f),
            BwdCase("N=1, C=1", true, 75, 1, 1, 0.25f),
            BwdCase("odd shape N=5, C=33", true, 76, 5, 33, 0.3f),
            FiniteDifferenceCase(),
        ],
        [
            new("no-identity", "dx is missing the identity path: y = x + α·F(x) hands dy straight back to x, so dx = dy + α·J_Fᵀ·dy.",
                (dy, fx, back, a) => BackwardOracle(dy, fx, back, a, identity: 0)),
            new("scale-ignored", "dx looks like dy + J_Fᵀ·dy: the branch is multiplied by α, so its gradient is too, dx = dy + α·J_Fᵀ·dy.",
                (dy, fx, back, a) => BackwardOracle(dy, fx, back, a, branch: 1)),
            new("scaled-identity", "You scaled the identity path instead of the branch: dx = dy + α·J_Fᵀ·dy, not α·dy + J_Fᵀ·dy.",
                (dy, fx, back, a) => BackwardOracle(dy, fx, back, a, identity: a, branch: 1)),
            new("dalpha-without-f", "dα looks like Σ dy: α multiplies F(x), so dα = Σ dy ⊙ F(x).",
                (dy, fx, back, a) => BackwardOracle(dy, fx, back, a, dalphaWithoutF: true)),
            new("dalpha-times-alpha", "dα looks multiplied by α: y is linear in α, so dα = Σ dy ⊙ F(x) does not depend on α.",
                (dy, fx, back, a) => BackwardOracle(dy, fx, back, a, dalphaScale: a)),
        ]);

    private static float[] Combine(float[] x, float[] fx, Func<double, double, double> op)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = (float)op(x[i], fx[i]);
        }

        return y;
    }

    private static ExerciseCase<Func<float[], Func<float[], float[]>, float, float[]>> Case(string name, bool hidden, int seed, int n, int c, float scale)
    {
        float[] x = Normal(seed, n * c);
        Func<float[], float[]> sublayer = Sublayers.Mixing(seed + 100, n, c);
        return new(name, hidden,
            f =>
            {
                float[] xi = Copy(x);
                float[] y = f(xi, sublayer, scale);
                Unchanged("x", x, xi);
                return [Out("y", y)];
            },
            () => [Out("y", Combine(x, sublayer(x), (xi, fi) => xi + (double)scale * fi))],
            Tolerance.Forward);
    }

    // dx = identity·dy + branch·J_Fᵀ·dy (branch = α unless overridden), dα = dalphaScale·Σ dy ⊙ F(x); in double.
    internal static (float[] Dx, float DAlpha) BackwardOracle(float[] dy, float[] fx, Func<float[], float[]> sublayerBackward, float alpha,
        double identity = 1, double? branch = null, bool dalphaWithoutF = false, double dalphaScale = 1)
    {
        float[] vjp = sublayerBackward(dy);
        double b = branch ?? alpha;
        var dx = new double[dy.Length];
        double dalpha = 0;
        for (int i = 0; i < dy.Length; i++)
        {
            dx[i] = identity * dy[i] + b * vjp[i];
            dalpha += dalphaWithoutF ? dy[i] : (double)dy[i] * fx[i];
        }

        return (ToFloat(dx), (float)(dalphaScale * dalpha));
    }

    private static ExerciseCase<Func<float[], float[], Func<float[], float[]>, float, (float[], float)>> BwdCase(
        string name, bool hidden, int seed, int n, int c, float alpha)
    {
        float[] x = Normal(seed, n * c);
        float[] fx = Sublayers.Mixing(seed + 100, n, c)(x);
        float[] dy = Normal(seed + 200, n * c);
        Func<float[], float[]> back = MixingBackward(seed + 100, x, n, c);
        return new(name, hidden, f => CallBackward(f, dy, fx, back, alpha),
            () => Outputs(BackwardOracle(dy, fx, back, alpha)), Tolerance.Backward);
    }

    // The formula checked against the slope of the forward pass itself: L(x, α) = Σ dy ⊙ (x + α·F(x)).
    private static ExerciseCase<Func<float[], float[], Func<float[], float[]>, float, (float[], float)>> FiniteDifferenceCase()
    {
        const int n = 3, c = 4, seed = 77;
        float[] x = Normal(seed, n * c);
        float[] alpha = [0.6f];
        float[] dy = Normal(seed + 200, n * c);
        float[] fx = Sublayers.Mixing(seed + 100, n, c)(x);
        Func<float[], float[]> back = MixingBackward(seed + 100, x, n, c);
        float[] m = Sublayers.MixingMatrix(seed + 100, c);
        return new("finite differences of the forward pass (GradientChecker)", true, f => CallBackward(f, dy, fx, back, alpha[0]),
            () =>
            {
                float[] xp = Copy(x), ap = Copy(alpha);
                double Loss()
                {
                    double[] fp = Sublayers.MixingInDouble(m, xp, n, c);
                    double s = 0;
                    for (int i = 0; i < dy.Length; i++)
                    {
                        s += dy[i] * (xp[i] + (double)ap[0] * fp[i]);
                    }

                    return s;
                }

                return [Out("dx", GradientChecker.Numerical(xp, Loss)), Out("dalpha", GradientChecker.Numerical(ap, Loss))];
            },
            Tolerance.Backward);
    }

    private static CaseOutput[] CallBackward(Func<float[], float[], Func<float[], float[]>, float, (float[], float)> f,
        float[] dy, float[] fx, Func<float[], float[]> back, float alpha)
    {
        float[] dyi = Copy(dy), fxi = Copy(fx);
        (float[] dx, float dalpha) = f(dyi, fxi, back, alpha);
        Unchanged("dy", dy, dyi);
        Unchanged("fx", fx, fxi);
        return Outputs((dx, dalpha));
    }

    private static CaseOutput[] Outputs((float[] Dx, float DAlpha) g) => [Out("dx", g.Dx), Out("dalpha", [g.DAlpha])];

    /// <summary>
    /// J_F(x)ᵀ·g for <see cref="Sublayers.Mixing"/> at a fixed x (what a layer's Backward computes from its cache):
    /// F(v)[r, j] = tanh(s[r, j]) + 0.1 with s = v·Mᵀ, so (J_Fᵀ·g)[r, k] = Σⱼ g[r, j]·(1 − tanh²(s[r, j]))·M[j, k]. In double.
    /// </summary>
    private static Func<float[], float[]> MixingBackward(int seed, float[] x, int n, int c)
    {
        float[] m = Sublayers.MixingMatrix(seed, c);
        // tanh′(s) = 1 − tanh²(s), and tanh(s) = F(x) − 0.1.
        double[] slope = Array.ConvertAll(Sublayers.MixingInDouble(m, x, n, c), y => 1 - (y - 0.1) * (y - 0.1));
        return g =>
        {
            ArgumentNullException.ThrowIfNull(g);
            if (g.Length != n * c)
            {
                throw new ArgumentException($"the sublayer's backward expects a gradient of shape [N, C] = [{n}, {c}] ({n * c} values), got {g.Length}.", nameof(g));
            }

            var dv = new double[n * c];
            for (int r = 0; r < n; r++)
            {
                for (int j = 0; j < c; j++)
                {
                    double gj = g[r * c + j] * slope[r * c + j];
                    for (int k = 0; k < c; k++)
                    {
                        dv[r * c + k] += gj * m[j * c + k];
                    }
                }
            }

            return ToFloat(dv);
        };
    }
}
