using Hrm.Bench;

// Bad arguments (an unknown preset, a number that does not parse or is out of range) end with one line and exit
// code 2.
try
{
    return Dispatch(args);
}
catch (Exception e) when (e is Hrm.Runtime.Config.HrmConfigException or FormatException or OverflowException
    or ArgumentException)
{
    Console.Error.WriteLine($"hrm-bench: {e.Message.ReplaceLineEndings(" ")}");
    return 2;
}

static int Dispatch(string[] args) => (args.Length > 0 ? args[0] : "") switch
{
    "quick" => BenchQuick(args),
    "profile" => BenchProfile(args),
    "profile-train" => BenchProfileTrain(args),
    "gpu-profile-train" => BenchGpuProfileTrain(args),
    "gpu-profile" => BenchGpuProfile(args),
    "optim" => BenchOptim(args),
    "attention" => BenchAttention(args),
    "compare" => BenchCompare(args),
    "gpu" => BenchGpu(args),
    "gemm" => BenchGemm(args),
    _ => BenchmarkSuites.Run(args, Console.Out),
};

static int BenchQuick(string[] args)
{
    BenchArgs.AtMost(args, 2, "quick [THREADS]");
    int threads = BenchArgs.Int(args, 1, 0, "THREADS", min: 0);
    int used = threads == 0 ? Environment.ProcessorCount : threads;
    Console.WriteLine($"threads: {used}, {DateTime.UtcNow:yyyy-MM-dd}");
    SegmentTimer.Run(Console.Out, threads);
    return 0;
}

static int BenchProfile(string[] args)
{
    BenchArgs.AtMost(args, 5, "profile [PRESET] [BATCH] [SEGMENTS] [THREADS]");
    OpProfile.Run(Console.Out, args.Length > 1 ? args[1] : "sudoku-extreme-1k", BenchArgs.Int(args, 2, 1, "BATCH", 1),
        BenchArgs.Int(args, 3, 16, "SEGMENTS", 1), BenchArgs.Int(args, 4, 0, "THREADS", 0));
    return 0;
}

static int BenchProfileTrain(string[] args)
{
    BenchArgs.AtMost(args, 5, "profile-train [PRESET] [BATCH] [STEPS] [THREADS]");
    OpProfile.RunTraining(Console.Out, args.Length > 1 ? args[1] : "sudoku-extreme-1k",
        BenchArgs.Int(args, 2, 32, "BATCH", 1), BenchArgs.Int(args, 3, 3, "STEPS", 1),
        BenchArgs.Int(args, 4, 0, "THREADS", 0));
    return 0;
}

static int BenchGpuProfileTrain(string[] args)
{
    // hrm-bench gpu-profile-train [preset] [batch] [steps] [--fp32-gemms] [--fp32-intermediates]
    string[] a = args.Where(x => !x.StartsWith("--", StringComparison.Ordinal)).ToArray();
    BenchArgs.AtMost(a, 4, "gpu-profile-train [PRESET] [BATCH] [STEPS] [--fp32-gemms] [--fp32-intermediates]");
    return OpProfile.RunGpuTraining(Console.Out, a.Length > 1 ? a[1] : "sudoku-extreme-1k",
        BenchArgs.Int(a, 2, 768, "BATCH", 1), BenchArgs.Int(a, 3, 2, "STEPS", 1),
        bf16Matmul: !args.Contains("--fp32-gemms"), bf16Intermediates: !args.Contains("--fp32-intermediates"));
}

static int BenchGpuProfile(string[] args)
{
    // hrm-bench gpu-profile [preset] [batch] [segments] [--fp32-gemms]
    string[] a = args.Where(x => !x.StartsWith("--", StringComparison.Ordinal)).ToArray();
    BenchArgs.AtMost(a, 4, "gpu-profile [PRESET] [BATCH] [SEGMENTS] [--fp32-gemms]");
    return OpProfile.RunGpu(Console.Out, a.Length > 1 ? a[1] : "sudoku-extreme-1k",
        BenchArgs.Int(a, 2, 1, "BATCH", 1), BenchArgs.Int(a, 3, 16, "SEGMENTS", 1),
        bf16Matmul: !args.Contains("--fp32-gemms"));
}

static int BenchOptim(string[] args)
{
    BenchArgs.AtMost(args, 2, "optim [THREADS]");
    int threads = BenchArgs.Int(args, 1, 0, "THREADS", min: 0);
    OptimizerTimer.Run(Console.Out, threads);
    return 0;
}

static int BenchAttention(string[] args)
{
    // hrm-bench attention [THREADS] [B,T,NH,HS ...]: the model's shapes, or only those given.
    int threads = BenchArgs.Int(args, 1, 0, "THREADS", min: 0);
    AttentionTimer.Run(Console.Out, threads, args.Skip(2).Select(AttentionTimer.ParseShape).ToArray());
    return 0;
}

static int BenchCompare(string[] args)
{
#if HRM_NO_TORCH
    Console.Error.WriteLine("hrm-bench compare: this build has no TorchSharp baseline (built with " +
        "-p:HrmNoTorch=true, as scripts/gpu-check.sh does); run it from the repository: " +
        "dotnet run --project src/Hrm.Bench -c Release -- compare");
    return 2;
#else
    return Hrm.Bench.Compare.CompareCommand.Run(args, Console.Out);
#endif
}

static int BenchGpu(string[] args)
{
    // hrm-bench gpu [--fp32-attention] [--smoke] [--fused] [--short-attention] [--chunks]
    string[] only = [.. args.Where(a => a is "--fused" or "--short-attention" or "--chunks").Select(a => a[2..])];
    Environment.Exit(GpuTimer.Run(Console.Out, bf16Attention: !args.Contains("--fp32-attention"),
        smoke: args.Contains("--smoke"), only: only));
    return 0; // not reached
}

static int BenchGemm(string[] args)
{
    BenchArgs.AtMost(args, 1, "gemm");
    GemmProbe.Run(Console.Out);
    return 0;
}
