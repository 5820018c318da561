using static CourseLib.Interactive.Exercises.CaseData;

namespace CourseLib.Interactive.Exercises;

/// <summary>
/// 4.1 residual block with a scaled branch: y = x + α·F(x) (α = 1 is the plain residual of He et al. 2016;
/// α = 0 at initialisation is ReZero/SkipInit, where every block starts as the identity).
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
}
