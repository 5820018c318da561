namespace CourseLib.Kernels;

/// <summary>Which GELU: the exact erf form or the tanh approximation (PyTorch's <c>approximate="none"</c> / <c>"tanh"</c>).</summary>
public enum GeluApproximation
{
    /// <summary>Exact: GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)). PyTorch's default.</summary>
    None = 0,

    /// <summary>Tanh approximation (Hendrycks &amp; Gimpel 2016; GPT-2): ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    Tanh = 1,
}
