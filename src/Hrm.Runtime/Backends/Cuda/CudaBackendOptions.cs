namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Choices of a <see cref="CudaBackend"/> that trade accuracy for speed, and where it runs.</summary>
public sealed record CudaBackendOptions
{
    /// <summary>
    /// The attention path for head size 64: true (default) runs the bf16 tensor-core kernels (kernel2, about 1e-2
    /// relative agreement with fp32); false runs the fp32 kernels (kernel1, about 1e-6). Other head sizes always
    /// run in fp32.
    /// </summary>
    public bool Bf16Attention { get; init; } = true;

    /// <summary>
    /// Let cuBLAS use TF32 tensor cores for the fp32 GEMMs (faster, about 1e-3 relative). Off by default, so the
    /// linear layers agree with the CPU backend to fp32 rounding.
    /// </summary>
    public bool Tf32Matmul { get; init; }

    /// <summary>
    /// Run the linear layers (QKV, o_proj, gate/up, down; forward and backward) as bf16 × bf16 cuBLASLt GEMMs with
    /// fp32 accumulation and fp32 output, as the reference's bf16 forward does; the fp32 weights stay the masters
    /// the optimiser updates. About 1e-2 relative agreement with fp32; the lm_head stays fp32 (V ≤ 12 columns).
    /// Off by default at this level (fp32 GEMMs); the CLI, <c>Trainer</c> and <c>SolverOptions.Bf16Matmul</c> turn it on
    /// by default since it passed the GPU tests and training parity on an H200 (2026-11-30). Overrides
    /// <see cref="Tf32Matmul"/> for those layers.
    /// </summary>
    public bool Bf16Matmul { get; init; }

    /// <summary>
    /// With <see cref="Bf16Matmul"/>: the model stores the intermediates between a GEMM and its one consumer in bf16,
    /// as the reference does (<see cref="IHrmBackend.Bf16Intermediates"/>): the gate/up GEMM writes its product in
    /// bf16, SwiGLU reads it and writes its output only in bf16, which the down projection's GEMMs (forward and
    /// weight gradient) read as it is; the o_proj and down_proj GEMMs write bf16 products that the residual add +
    /// RMSNorm reads; in the backward the SwiGLU output's gradient and the gate/up gradient are bf16 too. Halves the
    /// bytes those buffers move (about a third of a forward block's memory traffic at batch 768) and the memory of the
    /// recorded MLP activations. One bf16 rounding more per GEMM output. On by default; no effect without bf16 GEMMs.
    /// </summary>
    public bool Bf16Intermediates { get; init; } = true;

    /// <summary>
    /// With <see cref="Bf16Intermediates"/> and the bf16 attention (head size 64): the forwards that are not recorded
    /// (every block of a solve or an evaluation, 5 of 6 module calls of a training step's segments) keep their
    /// attention output and their residual stream between blocks in bf16, as the reference's bf16 forward does
    /// (<see cref="IHrmBackend.Bf16StreamForward"/>); the carry and the recorded forward stay fp32. Each op gives
    /// bitwise its fp32 form's result rounded to bf16, but the next op then reads the rounded values: one more bf16
    /// rounding of the residual per block. Halves those buffers' bytes (about 18% of a no-grad block's memory traffic
    /// at batch 768). On by default (since 2026-11-30, session 26): the reference keeps its whole residual stream in
    /// bf16; on an H200 (2026-11-30) it took 3% off a training step at batch 768 and 2% off the batch-1 solve; the
    /// training-parity run with 2 H and 2 L cycles (8 steps against the CPU's fp32) gave 4.64e-3 with it and 4.52e-3
    /// without on the CPU emulator of the GPU (tolerance 2e-2; not yet on a GPU: scripts/gpu-check.sh runs both).
    /// </summary>
    public bool Bf16Stream { get; init; } = true;

    /// <summary>
    /// With <see cref="Bf16Intermediates"/> and the bf16 attention (head size 64), at most 128 positions (Sudoku): the
    /// recorded forwards (the 1-step gradient's last L and H calls) store their q/k/v product in bf16, as the no-grad
    /// forwards do, and the attention backward reads it (<c>attention_backward_kernel4</c>: Q and K rotated again in
    /// the kernel, bitwise as the forward rotated them) and writes its gradient in bf16 only
    /// (<see cref="IHrmBackend.Bf16QkvRecorded"/>). As the reference's bf16 forward: q/k/v rounded to bf16 before
    /// RoPE (fp32 math on the bf16 values, rounded again), and dqkv in bf16 (the q/k/v projection's backward GEMM read
    /// its bf16 copy before: that GEMM is unchanged). Per recorded block at batch 768 the q/k/v GEMM, the attention
    /// forward and its backward move 1.2 GB fewer bytes (the fp32 qkv written, read, rotated in place and read again;
    /// the fp32 dqkv written), and training activations take 1.6 GiB less (Sudoku: 14,194 -> 12,533 MiB). On by
    /// default (session 25; predicted 3-6 ms off a 90 ms training step, not yet measured on a GPU); off gives the
    /// fp32 recorded qkv of before.
    /// </summary>
    public bool Bf16RecordedQkv { get; init; } = true;

    /// <summary>
    /// With <see cref="Bf16Matmul"/>: the first time a GEMM shape runs (outside a CUDA graph capture), time each of the
    /// algorithms cuBLASLt's heuristic offers for it (up to 8, a few runs each, on the call's own operands; a
    /// zeroed scratch output when the GEMM accumulates) and keep the fastest when it beats the heuristic's first guess
    /// by 3% (<see cref="CudaBackend.GemmTunings"/> says what was found). Any of them computes the same product up to
    /// the order of its sums, but which one wins depends on timing, so two processes (or two backends) may then
    /// differ in the last bits: off by default, which keeps GPU runs bit for bit repeatable and a resumed run the run
    /// it continues. On an H200 (2026-11-30, <c>hrm-bench gpu</c>): a training step at batch 768 90.5 -> 86.9 ms, the
    /// batch-1 solve unchanged.
    /// </summary>
    public bool TuneGemms { get; init; }

    /// <summary>
    /// With bf16 intermediates: run the gate/up GEMM and its SwiGLU (<see cref="CudaBackend.MatmulSwiGluForward"/>) on
    /// at most about this many rows at a time (a multiple of 128, the rows split evenly), so that each chunk's bf16
    /// gate/up product (rows × 2I) stays in the L2 cache between the GEMM that writes it and the SwiGLU kernel that
    /// reads it: at Sudoku's width, 4,096 rows are 25 MB of the H200's 50 MB L2. A no-grad forward then writes every
    /// chunk's product over the same bytes and never sends them to device memory; a recorded one (the backward reads
    /// the product) keeps each chunk's rows. Same results up to the order of the GEMM's sums (cuBLASLt may choose
    /// another algorithm for the chunk's row count). 0 (the default) = one GEMM and one SwiGLU over all rows: not yet
    /// measured on a GPU (<c>hrm-bench gpu --chunks</c> times both); two launches a chunk instead of two a call,
    /// against 2 × 387 MB of device-memory traffic a call at batch 768.
    /// </summary>
    public int SwiGluChunkRows { get; init; }

    /// <summary>
    /// Have the model run the ops after the attention (o_proj, add + RMSNorm, gate/up + SwiGLU, down_proj, add +
    /// RMSNorm: each row on its own) of every transformer block that is not recorded and keeps a bf16 residual stream
    /// (<see cref="Bf16Stream"/>: every block of an evaluation, 39 of the 48 block forwards of a training step; none
    /// at batch 1, whose 82 Sudoku rows are below a chunk's 128) on at most about this many rows at a time
    /// (<see cref="IHrmBackend.BlockChunkRows"/>; a multiple of 128, the rows split evenly), writing each chunk's
    /// intermediates (the o_proj and down_proj products, h1, the gate/up product, the SwiGLU output: 11 KB a row in
    /// bf16 at Sudoku's width) over the same scratch bytes, so each is read
    /// from the L2 cache right after it is written. Six launches a chunk instead of six a block. A module call that
    /// <see cref="FusedModuleMaxRows"/> takes runs as one kernel, without chunks. Same results up to the order of the
    /// GEMMs' sums (as <see cref="SwiGluChunkRows"/>). 0 (the default) = all rows at once: not yet measured on a GPU
    /// (<c>hrm-bench gpu --chunks</c> times both).
    /// </summary>
    public int BlockChunkRows { get; init; }

    /// <summary>
    /// Run each module call that nobody differentiates (every module call of a solve or an evaluation, the no-grad
    /// cycles of training) with at most this many rows (batch × positions) as one persistent kernel
    /// (<see cref="CudaBackend.TryFusedModuleForward"/>): the GPU's blocks share each stage of the module's transformer
    /// blocks and meet at grid-wide barriers, instead of about 8 kernel launches per transformer block (the batch-1
    /// Sudoku solve: 176 launches instead of 3,250). Needs <see cref="Bf16Matmul"/> with
    /// <see cref="Bf16Intermediates"/>, the bf16 attention at head size 64 and at most 128 positions; elsewhere the ops
    /// run as before. Its GEMMs are its own (tensor cores, fp32 accumulation of the same bf16 operands, every product
    /// rounded to bf16 as cuBLASLt's), so results agree with the unfused path within the bf16 tolerance, not bitwise.
    /// The launch is cooperative (every block resident at once, which its barriers need): on a device without
    /// cooperative launches the ops run as before, and where the driver refuses one (other work holding SMs, MPS
    /// limits) the backend says why in <see cref="CudaBackend.FusedModuleRefusal"/> and runs the ops from then on.
    /// 0 (the default) = never: on an H200 (2026-11-30) it was slower than the ops (a batch-1 Sudoku segment 1.85 ms
    /// against 1.46 ms; the 16-segment solve 30.0 ms against 14.4 ms with graphs). <c>hrm-bench gpu --fused</c> times
    /// it and its stages.
    /// </summary>
    public int FusedModuleMaxRows { get; init; }

    /// <summary>The rows the CLI's <c>--fused-module</c> and <c>SolverOptions.FusedModule</c> set
    /// <see cref="FusedModuleMaxRows"/> to: Sudoku (82 positions) up to batch 49.</summary>
    public const int FusedModuleDefaultRows = 4096;

    /// <summary>
    /// Record fixed op sequences the model marks as such (<see cref="IHrmBackend.RunRecorded"/>: a solver segment)
    /// as CUDA graphs and replay them: one launch instead of hundreds per segment. On by default; a sequence whose
    /// capture fails runs op by op (<see cref="CudaBackend.GraphFallbacks"/> says why).
    /// </summary>
    public bool Graphs { get; init; } = true;

    /// <summary>The CUDA device ordinal (0 = the first GPU).</summary>
    public int DeviceOrdinal { get; init; }

    /// <summary>Directory of the compiled-kernel cache; null = <c>HRM_KERNEL_CACHE</c> or <c>~/.cache/hrm/kernels</c>.</summary>
    public string? KernelCacheDirectory { get; init; }

    /// <summary>
    /// Wait for the device after every op, so wall-clock timers around single ops (<see cref="ProfilingBackend"/>)
    /// measure the op; slows everything else down.
    /// </summary>
    public bool SynchronizeEachOp { get; init; }
}
