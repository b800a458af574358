using System.Text.Json;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

/// <summary>
/// What a run's latest checkpoint was computed with, kept in its run directory (<c>compute.json</c>, written when the
/// run starts and with every checkpoint): the backend (cpu, cuda, reference), whether bf16 GEMMs were asked for, the
/// CPU's thread count (0 elsewhere), the training step's micro-batch (rows at once; 0: the whole batch) and whether
/// the no-grad residual stream was bf16 (with bf16 GEMMs, unless <c>--no-bf16-stream</c>; false in files from before
/// it, and with fp32 GEMMs). <c>--resume</c> without a GEMM flag
/// continues with the recorded choice, and says so when the arithmetic changes (device, effective GEMM precision,
/// residual stream, CPU threads): the continuation is then not bit for bit the run it would have been.
/// </summary>
internal sealed record RunCompute(string Device, bool Bf16Matmul, int Threads, int MicroBatch = 0,
    bool Bf16Stream = false)
{
    public const string FileName = "compute.json";

    /// <summary>The backend as recorded; a profiling wrapper counts as what it wraps. <paramref name="microBatch"/>:
    /// rows a step takes at once, 0 for the whole batch.</summary>
    public static RunCompute Of(IHrmBackend backend, bool bf16Matmul, int microBatch = 0, bool bf16Stream = false) =>
        backend switch
    {
        ProfilingBackend p => Of(p.Inner, bf16Matmul, microBatch, bf16Stream),
        CudaBackend => new("cuda", bf16Matmul, 0, microBatch, bf16Stream),
        ReferenceBackend => new("reference", bf16Matmul, 0, microBatch, bf16Stream),
        CpuBackend cpu => new("cpu", bf16Matmul, cpu.Threads, microBatch, bf16Stream),
        _ => throw new ArgumentException($"no device name for {backend.GetType().Name}", nameof(backend)),
    };

    /// <summary>The arithmetic in words: "cuda with bf16 GEMMs and a bf16 residual stream", "cpu with 2 threads
    /// (fp32), micro-batches of 48 rows", ...</summary>
    public string Describe() => (Device switch
    {
        "cuda" => $"cuda with {(Bf16Matmul ? "bf16" : "fp32")} GEMMs" +
            (Bf16Matmul ? Bf16Stream ? " and a bf16 residual stream" : " and an fp32 residual stream" : ""),
        "cpu" => $"cpu with {Threads} threads (fp32)",
        _ => "the reference backend (fp64)",
    }) + (MicroBatch > 0 ? $", micro-batches of {MicroBatch} rows" : "");

    /// <summary>A line for the user when continuing on <paramref name="now"/> changes the arithmetic, else null.</summary>
    public string? ChangeTo(RunCompute now) => Describe() == now.Describe()
        ? null
        : $"note: the latest checkpoint was computed on {Describe()} and the run continues on {now.Describe()}: " +
          "not bit for bit the run it would have been";

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["device"] = Device, ["bf16_matmul"] = Bf16Matmul, ["threads"] = Threads, ["micro_batch"] = MicroBatch,
        ["bf16_stream"] = Bf16Stream,
    });

    /// <summary>The record in <paramref name="runDir"/>, or null when the run has none (runs from before 2026-11-30).</summary>
    /// <exception cref="HrmFormatException">The file is not the JSON object this writes.</exception>
    public static RunCompute? Read(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using JsonDocument doc = JsonText.Parse(BoundedFile.ReadAllText(path, FileName, BoundedFile.MaxJsonBytes));
            JsonElement root = doc.RootElement;
            if (JsonText.FirstBadText(root) is { } bad) throw new HrmFormatException(path, bad, JsonText.BadTextMessage);
            if (root.ValueKind != JsonValueKind.Object) throw new HrmFormatException(path, "(root)", "expected a JSON object");
            if (!root.TryGetProperty("device", out JsonElement d) || d.ValueKind != JsonValueKind.String ||
                d.GetString() is not ("cpu" or "cuda" or "reference"))
                throw new HrmFormatException(path, "device", "expected \"cpu\", \"cuda\" or \"reference\"");
            if (!root.TryGetProperty("bf16_matmul", out JsonElement b) ||
                b.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new HrmFormatException(path, "bf16_matmul", "expected true or false");
            if (!root.TryGetProperty("threads", out JsonElement t) || t.ValueKind != JsonValueKind.Number ||
                !t.TryGetInt32(out int threads) || threads < 0)
                throw new HrmFormatException(path, "threads", "expected a whole number >= 0");
            int micro = 0; // files from before micro-batches: the whole batch
            if (root.TryGetProperty("micro_batch", out JsonElement mb) &&
                (mb.ValueKind != JsonValueKind.Number || !mb.TryGetInt32(out micro) || micro < 0))
                throw new HrmFormatException(path, "micro_batch", "expected a whole number >= 0 (0: the whole batch)");
            bool stream = false; // files from before --bf16-stream: off
            if (root.TryGetProperty("bf16_stream", out JsonElement bs))
            {
                if (bs.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw new HrmFormatException(path, "bf16_stream", "expected true or false");
                stream = bs.GetBoolean();
            }
            return new RunCompute(d.GetString()!, b.GetBoolean(), threads, micro, stream);
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, "(json)", $"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Writes the record into <paramref name="runDir"/> (a temporary file, then renamed).</summary>
    public void Write(string runDir) => Trainer.WriteAtomically(Path.Combine(runDir, FileName), ToJson());
}
