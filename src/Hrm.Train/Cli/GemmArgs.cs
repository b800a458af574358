using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Train.Cli;

/// <summary>
/// The GEMM precision flags every command that runs the model takes: on a GPU the linear layers run as bf16 GEMMs
/// with fp32 accumulation (the default, <c>--bf16-matmul</c>; the reference's forward is bf16 too) or, with
/// <c>--fp32-matmul</c>, in fp32; with bf16 GEMMs the no-grad forwards keep their residual stream in bf16 as the
/// reference does (<see cref="CudaBackendOptions.Bf16Stream"/>: <c>--bf16-stream</c>, the default) or in fp32
/// (<c>--no-bf16-stream</c>). The CPU always computes in fp32 and ignores them.
/// </summary>
internal static class GemmArgs
{
    /// <summary>The flag names.</summary>
    public static readonly string[] Flags = ["fp32-matmul", "bf16-matmul", "bf16-stream", "no-bf16-stream"];

    /// <summary>The precision flags alone (quickstart: it takes no stream flag).</summary>
    public static readonly string[] PrecisionFlags = ["fp32-matmul", "bf16-matmul"];

    /// <summary>Their usage fragment.</summary>
    public const string PrecisionUsage = "[--fp32-matmul | --bf16-matmul]";

    /// <summary>The usage fragment.</summary>
    public const string Usage = PrecisionUsage + " [--bf16-stream | --no-bf16-stream]";

    /// <summary>Whether the GEMMs run in bf16 on a GPU (true unless --fp32-matmul); both flags are a usage error.</summary>
    public static bool Bf16(CliArgs args, string command) => Given(args, command) ?? true;

    /// <summary>The flag given: true (--bf16-matmul), false (--fp32-matmul) or null (neither); both, both stream
    /// flags, or <c>--bf16-stream</c> with <c>--fp32-matmul</c>: a usage error.</summary>
    public static bool? Given(CliArgs args, string command)
    {
        if (args.Has("fp32-matmul") && args.Has("bf16-matmul"))
            throw new UsageException(command, "give at most one of --fp32-matmul and --bf16-matmul (the default)");
        if (args.Has("fp32-matmul") && args.Has("bf16-stream"))
            throw new UsageException(command, "--bf16-stream keeps a stream between bf16 GEMMs: it does not go with " +
                "--fp32-matmul");
        if (args.Has("bf16-stream") && args.Has("no-bf16-stream"))
            throw new UsageException(command, "give at most one of --bf16-stream and --no-bf16-stream");
        return args.Has("fp32-matmul") ? false : args.Has("bf16-matmul") ? true : null;
    }

    /// <summary>The stream flag given: true (<c>--bf16-stream</c>), false (<c>--no-bf16-stream</c>) or null
    /// (neither; checked by <see cref="Given"/>).</summary>
    public static bool? Stream(CliArgs args) =>
        args.Has("bf16-stream") ? true : args.Has("no-bf16-stream") ? false : null;

    /// <summary>The flags of the commands that run the model without training it (eval, predict, solve, render,
    /// analyze): the GEMM flags and <c>--fused-module</c>.</summary>
    public static readonly string[] ModelFlags = [.. Flags, "fused-module"];

    /// <summary>Their usage fragment.</summary>
    public const string ModelUsage = Usage + " [--fused-module]";

    /// <summary>
    /// The CUDA options for <see cref="Hrm.Runtime.Backends.BackendFactory.Create(string, int, CudaBackendOptions?, out string)"/>:
    /// the GEMM precision, and with <c>--fused-module</c> (commands taking <see cref="ModelFlags"/>) the fused module
    /// kernel for up to <see cref="CudaBackendOptions.FusedModuleDefaultRows"/> rows; it runs bf16 GEMMs, so
    /// <c>--fp32-matmul</c> with it is a usage error; with bf16 GEMMs the bf16 residual stream unless
    /// <c>--no-bf16-stream</c>.
    /// </summary>
    public static CudaBackendOptions Cuda(CliArgs args, string command)
    {
        bool bf16 = Bf16(args, command), fused = args.Has("fused-module");
        if (fused && !bf16)
            throw new UsageException(command, "--fused-module runs bf16 GEMMs: it does not go with --fp32-matmul");
        return new()
        {
            Bf16Matmul = bf16, Bf16Stream = bf16 && (Stream(args) ?? true),
            FusedModuleMaxRows = fused ? CudaBackendOptions.FusedModuleDefaultRows : 0,
        };
    }
}
