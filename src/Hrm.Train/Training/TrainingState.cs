using System.Globalization;
using System.Text.Json;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;

namespace Hrm.Train.Training;

/// <summary>
/// Everything besides the weights that a run needs to continue bit for bit: both optimisers' state (AdamATan2
/// moments; SignSGD has none), the step counter, the sampler and exploration generator states, and the ACT
/// carry (z_H, z_L, steps, halted flags and the data each row works on). Stored as safetensors next to the
/// model checkpoint; scalars and generator states go in the metadata.
/// </summary>
public sealed class TrainingState
{
    public required long Step { get; init; }

    public required float[] AdamM { get; init; }          // (dense elements)

    public required float[] AdamV { get; init; }          // (dense elements)

    public required float[] CarryZH { get; init; }        // (B, T, C)

    public required float[] CarryZL { get; init; }        // (B, T, C)

    public required ActState Act { get; init; }

    public required (long Pass, int Position, (ulong, ulong, ulong, ulong) Rng) Sampler { get; init; }

    public required (ulong, ulong, ulong, ulong) ExplorationRng { get; init; }

    public required string RunConfigJson { get; init; }

    public void Save(string path)
    {
        var w = new SafeTensorsWriter();
        w.Add("adam.m", TensorDType.F32, [AdamM.Length], AdamM);
        w.Add("adam.v", TensorDType.F32, [AdamV.Length], AdamV);
        w.Add("carry.z_H", TensorDType.F32, [CarryZH.Length], CarryZH);
        w.Add("carry.z_L", TensorDType.F32, [CarryZL.Length], CarryZL);
        int b = Act.Batch, l = Act.SeqLen;
        w.AddInt32("carry.steps", TensorDType.I32, [b], Act.Steps);
        w.AddInt32("carry.halted", TensorDType.I32, [b], Act.Halted.Select(h => h ? 1 : 0).ToArray());
        w.AddInt32("carry.inputs", TensorDType.I32, [b, l], Act.Tokens);
        w.AddInt32("carry.labels", TensorDType.I32, [b, l], Act.Labels);
        w.AddInt32("carry.puzzle_identifiers", TensorDType.I32, [b], Act.PuzzleIds);
        w.SetMetadata("step", Step.ToString(CultureInfo.InvariantCulture));
        w.SetMetadata("sampler.pass", Sampler.Pass.ToString(CultureInfo.InvariantCulture));
        w.SetMetadata("sampler.position", Sampler.Position.ToString(CultureInfo.InvariantCulture));
        w.SetMetadata("sampler.rng", Words(Sampler.Rng));
        w.SetMetadata("exploration.rng", Words(ExplorationRng));
        w.SetMetadata("run_config", RunConfigJson);
        w.Save(path);
    }

    public static TrainingState Load(string path, int batch, int seqLen)
    {
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        var act = new ActState(batch, seqLen);
        Ints(f, "carry.steps", act.Steps);
        var halted = new int[batch];
        Ints(f, "carry.halted", halted);
        int notFlag = Array.FindIndex(halted, h => h is not (0 or 1));
        if (notFlag >= 0)
            throw new HrmFormatException(path, $"carry.halted[{notFlag}]", $"is {halted[notFlag]}; expected 0 or 1");
        for (int i = 0; i < batch; i++) act.Halted[i] = halted[i] != 0;
        Ints(f, "carry.inputs", act.Tokens);
        Ints(f, "carry.labels", act.Labels);
        Ints(f, "carry.puzzle_identifiers", act.PuzzleIds);
        return new TrainingState
        {
            Step = Whole(f, "step", 0, long.MaxValue),
            AdamM = Floats(f, "adam.m", nonNegative: false),
            AdamV = Floats(f, "adam.v", nonNegative: true),
            CarryZH = Floats(f, "carry.z_H", nonNegative: false),
            CarryZL = Floats(f, "carry.z_L", nonNegative: false),
            Act = act,
            Sampler = (Whole(f, "sampler.pass", -1, long.MaxValue), (int)Whole(f, "sampler.position", 0, int.MaxValue),
                ParseWords(f, "sampler.rng")),
            ExplorationRng = ParseWords(f, "exploration.rng"),
            RunConfigJson = Meta(f, "run_config"),
        };
    }

    /// <summary>A tensor's values, every one finite (and, for the second moments, not negative): a state the
    /// optimiser or the carry could have left.</summary>
    private static float[] Floats(SafeTensorsFile f, string name, bool nonNegative)
    {
        var a = new float[f.Get(name).ElementCount];
        f.ReadAsFloat32(name, a);
        int bad = Array.FindIndex(a, v => !float.IsFinite(v) || (nonNegative && v < 0));
        if (bad >= 0)
        {
            throw new HrmFormatException(f.Path, $"{name}[{bad}]", $"is {a[bad].ToString(CultureInfo.InvariantCulture)}; " +
                (nonNegative ? "expected a finite value >= 0" : "expected a finite value"));
        }
        return a;
    }

    private static void Ints(SafeTensorsFile f, string name, int[] dst)
    {
        if (f.Get(name).ElementCount != dst.Length)
            throw new HrmFormatException(f.Path, name, $"expected {dst.Length} values (batch/seq_len of this run), found {f.Get(name).ElementCount}");
        f.ReadAsInt32(name, dst);
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>] from the metadata (the run checks it
    /// against its own length on resume).</summary>
    private static long Whole(SafeTensorsFile f, string key, long min, long max)
    {
        string s = Meta(f, key);
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
            throw new HrmFormatException(f.Path, "__metadata__." + key, $"expected a whole number from {min} to {max}, found '{s}'");
        return v;
    }

    private static string Meta(SafeTensorsFile f, string key) =>
        f.Metadata.TryGetValue(key, out string? v) ? v : throw new HrmFormatException(f.Path, "__metadata__." + key, "missing");

    private static string Words((ulong, ulong, ulong, ulong) s) => JsonSerializer.Serialize(new[]
    {
        s.Item1.ToString(CultureInfo.InvariantCulture), s.Item2.ToString(CultureInfo.InvariantCulture),
        s.Item3.ToString(CultureInfo.InvariantCulture), s.Item4.ToString(CultureInfo.InvariantCulture),
    });

    private static (ulong, ulong, ulong, ulong) ParseWords(SafeTensorsFile f, string key)
    {
        try
        {
            string[] w = JsonSerializer.Deserialize<string[]>(Meta(f, key)) ?? [];
            if (w.Length != 4) throw new FormatException("expected 4 words");
            ulong P(int i) => ulong.Parse(w[i], CultureInfo.InvariantCulture);
            return (P(0), P(1), P(2), P(3));
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            throw new HrmFormatException(f.Path, "__metadata__." + key, $"not a generator state ({e.Message})");
        }
    }
}
