using System.Globalization;
using System.Text.Json.Nodes;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm info --checkpoint FILE</c>: what a checkpoint holds without reading its values (a downloaded one, e.g. the
/// reference's released <c>checkpoint</c> files): its format and metadata, every tensor as stored, the dimensions the
/// tensors give, the architecture it is used with (its own; else <c>--config</c>, <c>--preset</c> or the
/// all_config.yaml beside it, as the model commands choose) and whether every tensor fits that architecture. Exit
/// code 1 when they do not.
/// </summary>
internal static class CheckpointInfo
{
    public static int Run(CliArgs args, string checkpoint, TextWriter o, TextWriter err)
    {
        (bool torch, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<HrmCheckpoint.StoredTensor> tensors) =
            HrmCheckpoint.Inspect(checkpoint);
        PrintContents(o, checkpoint, torch, metadata, tensors);
        Dims dims = Dims.Of(tensors);
        o.WriteLine("the tensors give: " + dims);

        bool seqGiven = args.Has("seq-len");
        bool seqUnknown = false, dimsAsked = false;
        HrmConfig? cfg = ConfigSource.ForCheckpoint(args, checkpoint, err, () =>
        {
            dimsAsked = true;
            int seq = seqGiven ? args.GetInt("seq-len", 0, min: 1) : dims.SeqLen ?? 0;
            if (seq == 0)
            {
                seqUnknown = true;
                seq = 1; // RoPE: no tensor depends on seq_len; the check below holds for any
            }
            return (seq, dims.VocabSize ?? 1, dims.PuzzleRows ?? 1);
        });
        string source = cfg != null
            ? args.Get("config") is { } file ? "--config " + file
            : args.Get("preset") is { } preset ? "--preset " + preset : ConfigSource.ReferenceRunConfig + " beside it"
            : "the file's own";
        cfg ??= HrmCheckpoint.ReadConfig(checkpoint);
        if (cfg == null)
        {
            o.WriteLine("architecture: none stored (a PyTorch checkpoint carries none and no " +
                $"{ConfigSource.ReferenceRunConfig} lies beside it): give --config FILE (the run's all_config.yaml) or " +
                $"--preset NAME ({string.Join(", ", HrmPresets.Names)})");
            return 0;
        }
        if (seqGiven && !dimsAsked)
            throw new UsageException("info", "the architecture gives seq_len itself; --seq-len is not used");
        JsonNode json = JsonNode.Parse(HrmConfigJson.Serialize(cfg))!;
        if (seqUnknown) json.AsObject().Remove("seq_len");
        o.WriteLine($"architecture ({source}): {json.ToJsonString()}");
        if (seqUnknown) o.WriteLine("  seq_len: left to the dataset (RoPE; --seq-len N to give it)");
        try
        {
            HrmCheckpoint.Check(checkpoint, tensors, cfg);
        }
        catch (HrmFormatException e)
        {
            o.WriteLine("check: does not fit: " + e.Message);
            return 1;
        }
        long parameters = new ParameterLayout(cfg).ParameterCount;
        o.WriteLine(Inv($"check: every tensor fits; num_params (dense, as the reference logs it) {parameters:N0}"));
        return 0;
    }

    /// <summary>The file's kind, metadata and tensor table.</summary>
    private static void PrintContents(TextWriter o, string checkpoint, bool torch, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyList<HrmCheckpoint.StoredTensor> tensors)
    {
        long elements = tensors.Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));
        string kind = torch ? "a PyTorch checkpoint (torch.save)" : "safetensors";
        o.WriteLine(Inv($"{checkpoint}: {kind}, {tensors.Count} tensors, {elements:N0} elements"));
        foreach ((string key, string value) in metadata.Where(kv => kv.Key != HrmCheckpoint.ConfigKey))
            o.WriteLine($"  metadata {Printable(key)}: {Printable(value)}");
        o.WriteLine();
        o.WriteLine($"{"tensor",-62} {"dtype",-5} {"shape",-14} {"elements",14}");
        foreach (HrmCheckpoint.StoredTensor t in tensors)
        {
            long count = t.Shape.Aggregate(1L, (a, d) => a * d);
            o.WriteLine(Inv($"{t.Name,-62} {TensorDTypes.Name(t.DType),-5} {SafeTensorInfo.FormatShape(t.Shape),-14} {count,14:N0}"));
        }
        o.WriteLine();
    }

    /// <summary>The dimensions a checkpoint's tensors give by themselves (null where none says).</summary>
    private sealed record Dims(int? HiddenSize, int? VocabSize, long HLayers, long LLayers, int? SwiGluWidth,
        bool PuzzleTable, int? PuzzleRows, int? PuzzleEmbNdim, bool LearnedPositions, int? SeqLen)
    {
        /// <summary>A dimension as a model may have it (1 to 2^31 - 1), or null.</summary>
        private static int? Dim(long v) => v is >= 1 and <= int.MaxValue ? (int)v : null;

        public static Dims Of(IReadOnlyList<HrmCheckpoint.StoredTensor> tensors)
        {
            long[]? Shape(string name) => tensors.FirstOrDefault(t => t.Name == name)?.Shape;
            long Layers(string level) => tensors.Select(t => LayerIndex(t.Name, level)).DefaultIfEmpty(-1).Max() + 1L;
            long[]? embed = Shape(ParameterLayout.Names.EmbedTokens), table = Shape(ParameterLayout.Names.PuzzleEmb),
                pos = Shape(ParameterLayout.Names.EmbedPos), gateUp = Shape(ParameterLayout.Names.GateUp("L", 0));
            int? hidden = embed is [_, var c] ? Dim(c) : null;
            int? ndim = table is [_, var d] ? Dim(d) : null;
            long prefix = ndim is { } n && hidden is { } h ? (n + (long)h - 1) / h : 0;
            return new Dims(hidden, embed is [var v, _] ? Dim(v) : null, Layers("H"), Layers("L"),
                gateUp is [var g, _] ? Dim(g / 2) : null, table != null, table is [var r, _] ? Dim(r) : null, ndim, pos != null,
                pos is [var t, _] ? Dim(t - prefix) : null);
        }

        private static int LayerIndex(string name, string level)
        {
            string start = $"{ParameterLayout.Names.Inner}{level}_level.layers.";
            if (!name.StartsWith(start, StringComparison.Ordinal)) return -1;
            int end = name.IndexOf('.', start.Length);
            return end > start.Length && int.TryParse(name.AsSpan(start.Length, end - start.Length), NumberStyles.None,
                CultureInfo.InvariantCulture, out int i) ? i : -1;
        }

        public override string ToString() => Inv(
            $"hidden_size {Text(HiddenSize)}, vocab_size {Text(VocabSize)}, H_layers {HLayers}, L_layers {LLayers}, SwiGLU width {Text(SwiGluWidth)}, ")
            + (PuzzleTable
                ? Inv($"puzzle table {(PuzzleRows is { } rows ? rows.ToString("N0", CultureInfo.InvariantCulture) : "?")} x ") +
                  Inv($"{Text(PuzzleEmbNdim)} (num_puzzle_identifiers {Text(PuzzleRows)}, puzzle_emb_ndim {Text(PuzzleEmbNdim)})")
                : "no puzzle table (puzzle_emb_ndim 0)") +
            (LearnedPositions ? Inv($", learned positions (seq_len {Text(SeqLen)})") : ", no position table (RoPE)");

        private static string Text(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Text from a file as it may be printed: control characters (a downloaded file's) as \uXXXX.</summary>
    private static string Printable(string s) => s.Any(char.IsControl)
        ? string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()))
        : s;
}
