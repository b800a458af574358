namespace Hrm.Runtime.Solver;

/// <summary>Where a <see cref="HrmSolver"/> runs the model.</summary>
public enum SolverDevice
{
    /// <summary>CUDA when a GPU, NVRTC and cuBLAS all work; otherwise the CPU.</summary>
    Auto,

    /// <summary>The fp32 SIMD CPU backend (<see cref="SolverOptions.Threads"/> threads).</summary>
    Cpu,

    /// <summary>GPU 0 through the CUDA backend; loading fails with the reason when CUDA cannot run.</summary>
    Cuda,
}
