namespace CourseLib.Kernels;

/// <summary>The activation applied to the gate half of a gated linear unit (Shazeer 2020, "GLU Variants Improve Transformer").</summary>
public enum GateKind
{
    /// <summary>GLU: σ(gate) ⊙ value (Dauphin et al. 2017).</summary>
    Glu = 0,

    /// <summary>ReGLU: ReLU(gate) ⊙ value.</summary>
    ReGlu = 1,

    /// <summary>GEGLU: GELU(gate) ⊙ value, with the exact erf GELU (<see cref="GeluApproximation.None"/>).</summary>
    GeGlu = 2,

    /// <summary>SwiGLU: SiLU(gate) ⊙ value (LLaMA, PaLM).</summary>
    SwiGlu = 3,
}
