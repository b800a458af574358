using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;

namespace Hrm.Bench;

public static partial class GpuTimer
{
    /// <summary>The whole table's rows, in order.</summary>
    private static void AllRows(TextWriter o, CudaBackendOptions options, CudaBackendOptions bf16, HrmConfig sudoku,
        int big, bool smoke)
    {
        foreach (int batch in smoke ? new[] { 1, 2 } : new[] { 1, 64, 768 }) Segment(o, options, sudoku, batch);
        Segment(o, bf16, sudoku, big);
        Segment(o, bf16 with { Bf16Stream = false }, sudoku, big);
        Segment(o, bf16 with { Bf16Intermediates = false }, sudoku, big);
        // Early in the table (a target row); bf16 GEMM options: the attention kernels do not depend on them, and they
        // let a bf16 qkv exist.
        if (smoke) Attention(o, bf16, 1, 130, 2, 64);
        else Attention(o, bf16, 768, 901, 8, 64);
        ShortAttention(o, bf16, big);
        TrainingStep(o, options, sudoku, big);
        TrainingStep(o, bf16, sudoku, big);
        TrainingStep(o, bf16 with { Bf16RecordedQkv = false }, sudoku, big);
        TrainingStep(o, bf16 with { TuneGemms = true }, sudoku, big);
        TrainingStep(o, bf16 with { Bf16Stream = false }, sudoku, big);
        TrainingStep(o, bf16 with { Bf16Intermediates = false }, sudoku, big);
        ChunkRows(o, bf16, sudoku, big, selected: false);
        // The reference's Maze config at its batch (T=901): its activations (about 152 GiB with bf16 GEMMs) exceed
        // one H200, so the step runs in 2 micro-batches of 384 rows (what hrm train chooses there by itself).
        HrmConfig maze = smoke ? sudoku : HrmPresets.Get("maze-30x30-hard-1k");
        TrainingStep(o, bf16, maze, big, microBatch: big / 2, what: smoke ? "toy" : "Maze");
        Solve(o, options with { Graphs = false }, sudoku);
        Solve(o, options, sudoku);
        Solve(o, bf16 with { Graphs = false }, sudoku);
        Solve(o, bf16, sudoku);
        SolveGraphOps(bf16, sudoku, "bf16 GEMMs");
        Solve(o, bf16 with { TuneGemms = true }, sudoku);
        Solve(o, bf16 with { Bf16Stream = false }, sudoku);
        FusedRows(o, bf16, sudoku);
        Evaluate(o, options with { Graphs = false }, sudoku);
        Evaluate(o, options, sudoku);
    }

    /// <summary>The rows of a selection (<c>--fused</c>, <c>--short-attention</c>, <c>--chunks</c>, in this order)
    /// alone, then the notes.</summary>
    private static void Selected(TextWriter o, IReadOnlyCollection<string> only, CudaBackendOptions bf16,
        HrmConfig sudoku, int big)
    {
        if (only.Contains("fused")) // first: its stage times have never been measured
        {
            Solve(o, bf16, sudoku);
            SolveGraphOps(bf16, sudoku, "bf16 GEMMs");
            FusedRows(o, bf16, sudoku);
        }
        if (only.Contains("short-attention"))
        {
            ShortAttention(o, bf16, big);
            TrainingStep(o, bf16, sudoku, big); // the recorded bf16 qkv (Bf16RecordedQkv) on and off
            TrainingStep(o, bf16 with { Bf16RecordedQkv = false }, sudoku, big);
        }
        if (only.Contains("chunks")) ChunkRows(o, bf16, sudoku, big, selected: true);
        o.WriteLine();
        foreach (string line in Notes) o.WriteLine(line);
    }
}
