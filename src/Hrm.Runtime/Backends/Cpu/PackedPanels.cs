namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// A weight's column panels as the few-rows GEMM transposes them (panel j: K x NR floats, NR per reduction step),
/// kept across calls while the weight cannot change (<see cref="CpuBackend.BeginWeightReuse"/>). The first GEMM
/// that uses it fills it (each panel by the thread that computes it) and sets <see cref="Valid"/>; later ones read
/// it instead of transposing the weight again (the transposes were about 9% of a batch-1 solve's GEMM time).
/// </summary>
internal sealed unsafe class PackedPanels(float* panels, long floats)
{
    /// <summary>Start of the packed panels (64-byte aligned).</summary>
    public float* Panels { get; } = panels;

    /// <summary>Capacity in floats.</summary>
    public long Floats { get; } = floats;

    /// <summary>Whether <see cref="Panels"/> holds the current weight.</summary>
    public bool Valid { get; set; }
}
