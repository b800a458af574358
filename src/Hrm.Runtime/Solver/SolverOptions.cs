using Hrm.Runtime.Config;

namespace Hrm.Runtime.Solver;

/// <summary>How <see cref="HrmSolver.Load(string, SolverOptions?)"/> sets up a solver. Every property has a usable default.</summary>
public sealed record SolverOptions
{
    /// <summary>Where the model runs (default <see cref="SolverDevice.Auto"/>).</summary>
    public SolverDevice Device { get; init; } = SolverDevice.Auto;

    /// <summary>Which GPU <see cref="SolverDevice.Cuda"/> and <see cref="SolverDevice.Auto"/> use, numbered as the
    /// driver numbers the GPUs <c>CUDA_VISIBLE_DEVICES</c> leaves (default 0: the first; <c>hrm --device cuda:N</c>).
    /// </summary>
    public int GpuOrdinal { get; init; }

    /// <summary>CPU threads for the model's ops; 0 (default) = one per core.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// On a GPU, run the linear layers as bf16 GEMMs with fp32 accumulation (default true: the reference's forward
    /// is bf16 too; the 16-segment Sudoku solve took 14.4 ms this way and 29.4 ms with fp32 GEMMs on an H200,
    /// 2026-11-30); false: fp32 GEMMs. The CPU always computes in fp32.
    /// </summary>
    public bool Bf16Matmul { get; init; } = true;

    /// <summary>
    /// On a GPU with bf16 GEMMs, keep the residual stream between blocks in bf16, as the reference does (default
    /// true, <see cref="Backends.Cuda.CudaBackendOptions.Bf16Stream"/>: 2% off the batch-1 Sudoku solve on an H200,
    /// 2026-11-30); false: in fp32 (<c>hrm solve --no-bf16-stream</c>).
    /// </summary>
    public bool Bf16Stream { get; init; } = true;

    /// <summary>
    /// On a GPU with bf16 GEMMs, run each module call as one persistent kernel
    /// (<see cref="Backends.Cuda.CudaBackendOptions.FusedModuleMaxRows"/> =
    /// <see cref="Backends.Cuda.CudaBackendOptions.FusedModuleDefaultRows"/>):
    /// 11 launches a Sudoku segment instead of 203, meant for the latency of small batches. Experimental, default
    /// false: on an H200 (2026-11-30) it made the batch-1 16-segment solve slower (30.0 ms against 14.4 ms). Results
    /// agree with the default path within the bf16 tolerance.
    /// </summary>
    public bool FusedModule { get; init; }

    /// <summary>Segments at most per puzzle; 0 (default) = the checkpoint's halt_max_steps.</summary>
    public int MaxSteps { get; init; }

    /// <summary>Fixed (default, the reference's evaluation) or adaptive halting.</summary>
    public HaltingMode Halting { get; init; } = HaltingMode.Fixed;

    /// <summary>Adaptive: segments every puzzle runs before its Q head may stop it (default 1).</summary>
    public int MinSteps { get; init; } = 1;

    /// <summary>Adaptive: halt once q_halt − q_continue exceeds this (default 0, the reference's rule).</summary>
    public float HaltMargin { get; init; }

    /// <summary>
    /// Rows the model runs together (default 16). Requests from every thread share them; a finished puzzle's row
    /// is taken by the next queued one at the next segment. Activation memory grows linearly with it.
    /// </summary>
    public int BatchSlots { get; init; } = 16;

    /// <summary>The architecture, for checkpoints that carry none (converted reference checkpoints); null = read it
    /// from the checkpoint.</summary>
    public HrmConfig? Config { get; init; }
}
