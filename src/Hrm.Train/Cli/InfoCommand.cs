using System.Globalization;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm info</c>: the architecture, the parameter table with counts, the memory plan in MiB, and what the CUDA
/// probe found (device, compute capability, memory, NVRTC) or why there is no CUDA, and every other GPU.
/// </summary>
internal static class InfoCommand
{
    public const string Usage = "hrm info (--config FILE | --preset NAME) [--batch N]\n" +
        "       hrm info --checkpoint FILE [--config FILE | --preset NAME] [--seq-len N]";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("info", argv, ["config", "preset", "batch", "checkpoint", "seq-len"]);
        if (args.Get("checkpoint") is { } checkpoint)
        {
            if (args.Has("batch")) throw new UsageException("info", "--batch belongs to the memory plan, not to --checkpoint");
            return CheckpointInfo.Run(args, checkpoint, o, err);
        }
        if (args.Has("seq-len")) throw new UsageException("info", "--seq-len goes with --checkpoint");
        HrmConfig cfg = ConfigSource.FromArgs(args, "info", err)!;
        int batch = args.GetInt("batch", 32, min: 1);
        var layout = new ParameterLayout(cfg);
        o.WriteLine("architecture: " + HrmConfigJson.Serialize(cfg));
        o.WriteLine(Inv($"derived: T = {cfg.TotalSeqLen} (L {cfg.SeqLen} + prefix {cfg.PuzzleEmbLen}), head dim {cfg.HeadDim}, SwiGLU width {cfg.Intermediate}"));
        o.WriteLine();
        o.WriteLine($"{"tensor",-62} {"shape",-14} {"kind",-9} {"elements",14}");
        foreach (TensorEntry e in layout.Entries)
        {
            string kind = e.Kind == TensorKind.Parameter ? "param" : e.StoredAsBf16 ? "buf bf16" : "buffer";
            o.WriteLine(Inv($"{e.Name,-62} {e.ShapeText,-14} {kind,-9} {e.Count,14:N0}"));
        }
        long buffers = layout.Entries.Where(e => e.Kind == TensorKind.Buffer).Sum(e => e.Count);
        o.WriteLine();
        o.WriteLine(Inv($"num_params (dense, as the reference logs it): {layout.ParameterCount:N0}"));
        o.WriteLine(Inv($"buffers (puzzle table, H_init, L_init): {buffers:N0}"));
        o.WriteLine();
        MemoryPlan(o, cfg, layout, batch);
        o.WriteLine();
        Cuda(o);
        return 0;
    }

    /// <summary>The bytes of the parameters, gradients, activations and moments at <paramref name="batch"/>, on the
    /// CPU and on a GPU with bf16 GEMMs.</summary>
    private static void MemoryPlan(TextWriter o, HrmConfig cfg, ParameterLayout layout, int batch)
    {
        o.WriteLine(Inv($"memory plan, fp32 CPU backend, batch {batch}:"));
        ActivationPlan eval = HrmModel.MeasurePlan(cfg, batch, training: false);
        ActivationPlan train = HrmModel.MeasurePlan(cfg, batch, training: true);
        Row(o, "parameters + buffers", layout.TotalElements * 4);
        Row(o, "gradients (dense)", layout.DenseElements * 4);
        Row(o, "activations, inference", eval.Bytes(4));
        Row(o, "activations, training (1-step)", train.Bytes(4));
        Row(o, "total, inference", layout.TotalElements * 4 + eval.Bytes(4));
        Row(o, "total, forward + 1-step backward", (layout.TotalElements + layout.DenseElements) * 4 + train.Bytes(4));
        Row(o, "optimiser moments (AdamATan2 m, v)", 2 * layout.DenseElements * 4);
        Row(o, "total, training (with the moments)", (layout.TotalElements + 3 * layout.DenseElements) * 4 + train.Bytes(4));
        o.WriteLine("  CUDA with bf16 GEMMs (the commands' GPU default; GEMM intermediates and the no-grad residual " +
            "stream in bf16; plus the bf16 weight copies and scratch):");
        bool qkv = cfg.PosEncodings == PosEncoding.Rope && CudaBackend.ReadsBf16Qkv(cfg.TotalSeqLen, cfg.HeadDim);
        bool stream = qkv && new CudaBackendOptions().Bf16Stream;
        Row(o, "activations, inference", HrmModel.MeasurePlan(cfg, batch, training: false, bf16Inter: true,
            bf16Qkv: qkv, bf16Stream: stream).Bytes(4));
        bool rec = qkv && CudaBackend.RecordsBf16Qkv(cfg.TotalSeqLen, cfg.HeadDim);
        Row(o, "activations, training (1-step)", HrmModel.MeasurePlan(cfg, batch, training: true, bf16Inter: true,
            bf16Qkv: qkv, bf16Stream: stream, bf16RecordedQkv: rec).Bytes(4));
    }

    /// <summary>Whether CUDA is usable here, and the device's capability and memory, or why not.</summary>
    private static void Cuda(TextWriter o)
    {
        CudaProbeResult cuda = CudaProbe.Run();
        o.WriteLine("cuda: " + cuda);
        if (cuda.Available)
        {
            double gib = cuda.TotalMemoryBytes / (1024.0 * 1024 * 1024);
            int cc = cuda.ComputeCapability;
            o.WriteLine(Inv($"  compute capability {cc / 10}.{cc % 10}, {gib:F1} GiB, NVRTC {cuda.NvrtcVersion}"));
        }
        else if (cuda.Reason.Contains('\n', StringComparison.Ordinal))
        {
            foreach (string line in cuda.Reason.Split('\n').Skip(1)) o.WriteLine("  " + line.Trim());
        }
        if (cuda.Device.Length == 0) return;
        // Every other GPU the driver lists (a probe of a number past the last finds no device), with the --device
        // value that picks it.
        for (int gpu = 1; gpu < MaxGpusListed; gpu++)
        {
            CudaProbeResult other = CudaProbe.Run(gpu);
            if (other.Device.Length == 0) break;
            o.WriteLine(Inv($"  GPU {gpu} (--device cuda:{gpu}): {other}"));
        }
    }

    private const int MaxGpusListed = 64;

    private static void Row(TextWriter o, string what, long bytes) =>
        o.WriteLine(Inv($"  {what,-34} {bytes / (1024.0 * 1024.0),12:F1} MiB"));

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
