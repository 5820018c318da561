namespace CourseLib.Interactive.Exercises;

/// <summary>The library's implementations in the exercises' signatures: the fallback of <see cref="Exercise.Use{TDelegate}"/>.</summary>
internal static class LibraryImplementations
{
    public static float[] FfnForward(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int t, int c) =>
        CaseData.ToFloat(Lesson1Exercises.Oracle(x, w1, b1, w2, b2, t, c));

    public static float[] GeluForward(float[] x) => Array.ConvertAll(x, v => (float)ExerciseMath.Gelu(v));

    public static float[] GeluDerivative(float[] x) => Array.ConvertAll(x, v => (float)ExerciseMath.GeluDerivative(v));

    public static float[] LayerNormForward(float[] x, float[] gamma, float[] beta, int n, int c, float eps) =>
        CaseData.ToFloat(Lesson3Exercises.ForwardOracle(x, gamma, beta, n, c, eps));

    public static (float[] Dx, float[] DGamma, float[] DBeta) LayerNormBackward(float[] dy, float[] x, float[] gamma, int n, int c, float eps) =>
        Lesson3Exercises.BackwardOracle(dy, x, gamma, n, c, eps);

    public static float[] ResidualForward(float[] x, Func<float[], float[]> sublayer, float scale)
    {
        float[] fx = sublayer(x);
        var y = new float[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = x[i] + scale * fx[i];
        }

        return y;
    }

    public static float LearningRate(int step, int warmupSteps, int totalSteps, float maxLr, float minLr) =>
        Lesson5Exercises.Lr(step, warmupSteps, totalSteps, maxLr, minLr);

    public static float[] PreLnSublayerForward(float[] x, float[] gamma, float[] beta, Func<float[], float[]> sublayer, int n, int c, float eps) =>
        Lesson5Exercises.PreLnOracle(x, gamma, beta, sublayer, n, c, eps);

    public static float[] BiasGeluForward(float[] x, float[] bias, int n, int c) => Lesson7Exercises.Oracle(x, bias, n, c);
}
