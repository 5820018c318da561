using System.Collections.Concurrent;
using TorchSharp;

namespace CourseLib.Torch;

/// <summary>
/// Numbers used as libtorch scalars (0.5 in 0.5·h, √d in q·kᵀ/√d), each converted once and kept for the process.
/// </summary>
/// <remarks>
/// In TorchSharp 0.107 writing <c>t / Math.Sqrt(d)</c> converts the double to a temporary <see cref="Scalar"/> that
/// nothing disposes: the operator reads its native handle and calls libtorch, and from then on the object is garbage.
/// If a collection runs during that call, the finalizer can free the native scalar while libtorch still reads it; the
/// benchmark once failed that way, with "Unknown scalar type" from <c>div</c> (the upstream fix, disposing the
/// temporaries, is dotnet/TorchSharp#1434, not released). A scalar from here outlives every call that uses it.
/// </remarks>
public static class TorchConstants
{
    private static readonly ConcurrentDictionary<double, Scalar> s_scalars = new();

    /// <summary>The libtorch scalar for <paramref name="value"/> (a float64 scalar, as the implicit conversion makes).</summary>
    public static Scalar Of(double value) => s_scalars.GetOrAdd(value, v => v.ToScalar());
}
