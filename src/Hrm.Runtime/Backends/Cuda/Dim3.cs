namespace Hrm.Runtime.Backends.Cuda;

/// <summary>A grid or block size for a kernel launch.</summary>
/// <param name="X">Extent along x.</param>
/// <param name="Y">Extent along y.</param>
/// <param name="Z">Extent along z.</param>
internal readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>A one-dimensional size.</summary>
    public static implicit operator Dim3(uint x) => new(x);
}
