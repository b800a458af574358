using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>Where a command's architecture comes from: <c>--config FILE</c> or <c>--preset NAME</c>.</summary>
internal static class ConfigSource
{
    /// <summary>
    /// Reads a config file (<see cref="HrmConfigFile"/>): JSON (arch keys, or a run config with an <c>arch</c> member)
    /// or the reference's all_config.yaml. With <paramref name="dataset"/>, seq_len, vocab_size and
    /// num_puzzle_identifiers come from it where the file does not give them, as in the reference. Warnings go to
    /// <paramref name="warn"/>.
    /// </summary>
    public static HrmConfig FromFile(string path, TextWriter warn, DatasetMetadata? dataset = null) =>
        FromFile(path, warn, dataset is null ? null : (dataset.SeqLen, dataset.VocabSize, dataset.NumPuzzleIdentifiers));

    /// <summary><see cref="FromFile(string, TextWriter, DatasetMetadata?)"/> with the task's dimensions given directly
    /// (<c>hrm solve</c>: the puzzle's).</summary>
    public static HrmConfig FromFile(string path, TextWriter warn, (int SeqLen, int VocabSize, int NumPuzzleIdentifiers)? task)
    {
        var warnings = new List<string>();
        HrmConfigFile file = HrmConfigFile.Load(path, warnings);
        foreach (string w in warnings) warn.WriteLine("hrm: warning: " + w);
        return task is not { } t ? file.Config : file.WithDataset(t.SeqLen, t.VocabSize, t.NumPuzzleIdentifiers);
    }

    /// <summary>The name of the reference's run config, which its training writes beside the step_N checkpoints.</summary>
    public const string ReferenceRunConfig = "all_config.yaml";

    /// <summary>
    /// The architecture for a model command: <c>--config FILE</c> or <c>--preset NAME</c>; else, for a checkpoint that carries none (the
    /// reference's own), the run's all_config.yaml beside it (the reference's layout), said on <paramref name="warn"/>;
    /// else null (the checkpoint's own). <paramref name="task"/> (asked only when a file is read) gives what a run
    /// config leaves to the data: seq_len, vocab_size, num_puzzle_identifiers.
    /// </summary>
    public static HrmConfig? ForCheckpoint(CliArgs args, string checkpoint, TextWriter warn,
        Func<(int SeqLen, int VocabSize, int NumPuzzleIdentifiers)> task) =>
        ForCheckpoint(args, checkpoint, warn, task, out _);

    /// <summary><see cref="ForCheckpoint(CliArgs, string, TextWriter, Func{ValueTuple{int, int, int}})"/>, also giving
    /// the LM loss the file names (the reference's arch.loss.loss_type), or null.</summary>
    public static HrmConfig? ForCheckpoint(CliArgs args, string checkpoint, TextWriter warn,
        Func<(int SeqLen, int VocabSize, int NumPuzzleIdentifiers)> task, out string? lossType)
    {
        lossType = null;
        string? file = args.Get("config"), preset = args.Get("preset");
        if (file != null && preset != null) throw new UsageException(args.Command, "give --config or --preset, not both");
        if (preset != null) return FromPreset(preset, checkpoint);
        if (file == null)
        {
            string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint)) ?? ".", ReferenceRunConfig);
            if (!File.Exists(checkpoint) || !File.Exists(beside) || HrmCheckpoint.ReadConfig(checkpoint) != null)
                return null;
            warn.WriteLine($"hrm: the checkpoint carries no architecture: using {beside} (--config FILE to choose another)");
            file = beside;
        }
        var warnings = new List<string>();
        HrmConfigFile config = HrmConfigFile.Load(file, warnings);
        foreach (string w in warnings) warn.WriteLine("hrm: warning: " + w);
        lossType = config.LossType;
        bool complete = config.GivenKeys.Contains("seq_len") && config.GivenKeys.Contains("vocab_size") &&
            config.GivenKeys.Contains("num_puzzle_identifiers");
        if (complete) return config.Config;
        (int seqLen, int vocab, int ids) = task();
        return config.WithDataset(seqLen, vocab, ids);
    }

    /// <summary>
    /// <c>--preset NAME</c> for a checkpoint: the reference's task architecture (hrm_v1 with the task's seq_len and
    /// vocab_size; what its released checkpoints were trained with, whose folders do not always hold the run's
    /// all_config.yaml), with num_puzzle_identifiers from the checkpoint's puzzle table, which depends on how the
    /// dataset was built.
    /// </summary>
    private static HrmConfig FromPreset(string preset, string checkpoint) => HrmPresets.ForCheckpoint(preset, checkpoint);

    /// <summary>vocab_size and num_puzzle_identifiers as the checkpoint's tensors have them (embed_tokens rows, puzzle
    /// table rows; 1 without a table), for commands whose data does not say.</summary>
    public static (int VocabSize, int NumPuzzleIdentifiers) FromTensors(string checkpoint) =>
        (HrmCheckpoint.TableRows(checkpoint, Hrm.Runtime.Memory.ParameterLayout.Names.EmbedTokens) ?? 0,
         HrmCheckpoint.TableRows(checkpoint, Hrm.Runtime.Memory.ParameterLayout.Names.PuzzleEmb) ?? 1);

    /// <summary>--config or --preset (exactly one, unless <paramref name="optional"/>; then null when neither).</summary>
    public static HrmConfig? FromArgs(CliArgs args, string command, TextWriter warn, bool optional = false)
    {
        string? file = args.Get("config"), preset = args.Get("preset");
        if (file != null && preset != null) throw new UsageException(command, "give --config or --preset, not both");
        if (file != null) return FromFile(file, warn);
        if (preset != null) return HrmPresets.Get(preset);
        if (optional) return null;
        throw new UsageException(command, $"give --config FILE or --preset NAME ({string.Join(", ", HrmPresets.Names)})");
    }
}
