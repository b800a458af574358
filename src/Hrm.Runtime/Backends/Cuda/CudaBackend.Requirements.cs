namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Which GPUs the CUDA backend runs on (checked by the constructor and by <see cref="CudaProbe"/>).</summary>
public sealed partial class CudaBackend
{
    /// <summary>
    /// The oldest GPU architecture the kernels run on, as major·10 + minor: 80 (Ampere: A100, A10, A30, A40, the RTX
    /// 30 series) and everything newer. They use bf16 conversions, bf16 tensor-core MMA and <c>cp.async</c>, which
    /// PTX has from sm_80 on, as the reference's bf16 training and FlashAttention need Ampere.
    /// </summary>
    public const int MinimumComputeCapability = 80;

    /// <summary>Why the kernels cannot run on a GPU of compute capability <paramref name="computeCapability"/>
    /// (major·10 + minor) described as <paramref name="device"/>, or null when they can.</summary>
    public static string? ArchitectureProblem(int computeCapability, string device) =>
        computeCapability >= MinimumComputeCapability ? null
            : $"{device}: the CUDA kernels need compute capability {MinimumComputeCapability / 10}." +
              $"{MinimumComputeCapability % 10} or newer (Ampere or later: bf16 tensor cores, cp.async); this GPU " +
              $"has {computeCapability / 10}.{computeCapability % 10}";
}
