using System.Text.Json;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

/// <summary>
/// What a run computes on, kept in its run directory (<c>compute.json</c>): the backend it ran on (cpu, cuda,
/// reference) and whether it asked for bf16 GEMMs. <c>--resume</c> without a GEMM flag continues with the recorded
/// choice, and says so when the device or the effective GEMM precision changes (then the continuation is not bit
/// for bit the run it would have been).
/// </summary>
internal sealed record RunCompute(string Device, bool Bf16Matmul)
{
    public const string FileName = "compute.json";

    /// <summary>The backend as a device name; a profiling wrapper counts as what it wraps.</summary>
    public static RunCompute Of(IHrmBackend backend, bool bf16Matmul) => new(Kind(backend), bf16Matmul);

    /// <summary>The GEMM precision in effect: bf16 only on CUDA with <see cref="Bf16Matmul"/>; fp32 elsewhere.</summary>
    public string Gemms => Device == "cuda" && Bf16Matmul ? "bf16" : "fp32";

    /// <summary>A line for the user when resuming on <paramref name="now"/> changes the arithmetic, else null.</summary>
    public string? ChangeTo(RunCompute now) => Device == now.Device && Gemms == now.Gemms
        ? null
        : $"note: this run computed on {Device} with {Gemms} GEMMs so far and continues on {now.Device} with " +
          $"{now.Gemms} GEMMs: the continuation is not bit for bit the run it would have been";

    public string ToJson() =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["device"] = Device, ["bf16_matmul"] = Bf16Matmul });

    /// <summary>The record in <paramref name="runDir"/>, or null when the run has none (runs from before 2026-11-30).</summary>
    /// <exception cref="HrmFormatException">The file is not the JSON object this writes.</exception>
    public static RunCompute? Read(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new HrmFormatException(path, "(root)", "expected a JSON object");
            if (!root.TryGetProperty("device", out JsonElement d) || d.ValueKind != JsonValueKind.String ||
                d.GetString() is not ("cpu" or "cuda" or "reference"))
                throw new HrmFormatException(path, "device", "expected \"cpu\", \"cuda\" or \"reference\"");
            if (!root.TryGetProperty("bf16_matmul", out JsonElement b) ||
                b.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new HrmFormatException(path, "bf16_matmul", "expected true or false");
            return new RunCompute(d.GetString()!, b.GetBoolean());
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "(json)", $"not valid JSON: {e.Message}", e);
        }
    }

    private static string Kind(IHrmBackend backend) => backend switch
    {
        ProfilingBackend p => Kind(p.Inner),
        CudaBackend => "cuda",
        ReferenceBackend => "reference",
        CpuBackend => "cpu",
        _ => throw new ArgumentException($"no device name for {backend.GetType().Name}", nameof(backend)),
    };
}
