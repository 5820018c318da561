using CourseLib.Kernels;

namespace CourseLib.Layers;

/// <summary>
/// The element-wise activations (ReLU, GELU, GELU-tanh, SiLU) as the layers call them: one switch from
/// <see cref="Activation"/> to its kernel, shared by <see cref="ActivationLayer"/> and <see cref="FeedForward"/>.
/// </summary>
internal static class ElementwiseActivation
{
    /// <summary>y = f(x).</summary>
    internal static void Forward(Activation activation, ReadOnlySpan<float> x, Span<float> y)
    {
        switch (activation)
        {
            case Activation.Relu:
                Relu.Forward(x, y);
                break;
            case Activation.Gelu:
                Gelu.Forward(x, y, GeluApproximation.None);
                break;
            case Activation.GeluTanh:
                Gelu.Forward(x, y, GeluApproximation.Tanh);
                break;
            case Activation.Silu:
                Silu.Forward(x, y);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{activation} is not an element-wise activation.");
        }
    }

    /// <summary>
    /// dx = dy·f′(x), written rather than accumulated: the layer owns dx, so it needs no clearing first (same values as
    /// clearing and calling the kernels' accumulating Backward).
    /// </summary>
    internal static void BackwardOverwriting(Activation activation, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx)
    {
        Elementwise.ValidateBackward(dy, x, dx);
        switch (activation)
        {
            case Activation.Relu:
                Elementwise.Backward<ReluOp>(dy, x, dx, accumulate: false);
                break;
            case Activation.Gelu:
                Elementwise.Backward<GeluErfOp>(dy, x, dx, accumulate: false);
                break;
            case Activation.GeluTanh:
                Elementwise.Backward<GeluTanhOp>(dy, x, dx, accumulate: false);
                break;
            case Activation.Silu:
                Elementwise.Backward<SiluOp>(dy, x, dx, accumulate: false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, $"{activation} is not an element-wise activation.");
        }
    }
}
