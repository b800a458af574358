using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm convert</c>: one self-contained safetensors file from a checkpoint, typically the reference's own
/// (<c>step_N</c>, torch.save, no architecture): the architecture from its all_config.yaml (beside it, or
/// <c>--config</c>) and the dataset's dimensions go into the file's metadata, so that an app loads it alone
/// (<c>HrmSolver.Load("model.safetensors")</c>). Values are copied, never rounded. With <c>--data</c> the dataset's
/// identifiers.json is put beside the output too (ARC tasks are found by name through it).
/// </summary>
internal static class ConvertCommand
{
    public const string Usage =
        "hrm convert --checkpoint FILE [--config FILE | --preset NAME] [--data DIR | --seq-len N] --out model.safetensors";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("convert", argv, ["checkpoint", "config", "preset", "data", "seq-len", "out"]);
        string ckpt = args.Require("checkpoint");
        string output = Path.GetFullPath(args.GetOutFile("out") ?? args.Require("out"));
        string? data = args.Get("data");
        if (data != null && args.Has("seq-len"))
            throw new UsageException("convert", "give --data or --seq-len, not both");
        CheckOutput(ckpt, output);
        args.CheckNotInput("out", "checkpoint", "config"); // through links too, as the other commands
        DatasetMetadata? meta = data is null ? null
            : DatasetMetadata.Read(Path.Combine(DatasetLayout.SplitDir(data, "train"), DatasetMetadata.FileName));
        // The reference builds its model from the run's arch and the dataset: seq_len, vocab_size and
        // num_puzzle_identifiers come from --data, or seq_len from --seq-len and the other two from the tensors.
        bool dimsAsked = false;
        HrmConfig? cfg = ConfigSource.ForCheckpoint(args, ckpt, err, () =>
        {
            dimsAsked = true;
            if (meta != null) return (meta.SeqLen, meta.VocabSize, meta.NumPuzzleIdentifiers);
            if (!args.Has("seq-len"))
            {
                throw new UsageException("convert", "the run config leaves seq_len to the dataset: give --data DIR " +
                    "(the dataset the run trained on) or --seq-len N (81 for 9x9 Sudoku, 900 for mazes and ARC)");
            }
            (int vocab, int ids) = ConfigSource.FromTensors(ckpt);
            return (args.GetInt("seq-len", 0, min: 1), vocab, ids);
        });
        if (args.Has("seq-len") && !dimsAsked)
            throw new UsageException("convert", "the architecture gives seq_len itself; --seq-len is not used");
        using HrmModel model = HrmCheckpoint.Load(ckpt, new CpuBackend(1), cfg);
        HrmConfig a = model.Config;
        if (meta != null && (meta.SeqLen, meta.VocabSize, meta.NumPuzzleIdentifiers) !=
            (a.SeqLen, a.VocabSize, a.NumPuzzleIdentifiers))
        {
            throw new HrmFormatException(data!, "dataset.json", $"the dataset has seq_len {meta.SeqLen}, vocab_size " +
                $"{meta.VocabSize}, num_puzzle_identifiers {meta.NumPuzzleIdentifiers}; the model {a.SeqLen}, " +
                $"{a.VocabSize}, {a.NumPuzzleIdentifiers}: not the dataset this model was trained on");
        }
        WriteWithIdentifiers(model, output, data, o);
        return 0;
    }

    /// <summary>Saves <paramref name="model"/> to <paramref name="output"/> and puts the dataset's identifiers.json
    /// beside it (refused when a different one is there already), or notes that an ARC model lacks one.</summary>
    private static void WriteWithIdentifiers(HrmModel model, string output, string? data, TextWriter o)
    {
        HrmConfig a = model.Config;
        string? names = data != null ? Path.Combine(data, DatasetLayout.IdentifiersFile) : null;
        byte[]? identifiers = names != null && File.Exists(names)
            ? BoundedFile.ReadAllBytes(names, "identifiers.json", BoundedFile.MaxIdentifiersBytes) : null;
        string besideOut = Path.Combine(Path.GetDirectoryName(output)!, DatasetLayout.IdentifiersFile);
        if (identifiers != null && File.Exists(besideOut) &&
            !BoundedFile.ReadAllBytes(besideOut, "identifiers.json", BoundedFile.MaxIdentifiersBytes).AsSpan()
                .SequenceEqual(identifiers))
        {
            throw new IOException($"{besideOut} exists and differs from {names}: write the model into another folder " +
                "(each checkpoint folder holds the identifiers of the dataset it was trained on)");
        }
        HrmCheckpoint.Save(model, output);
        o.WriteLine($"wrote {output}: {model.Layout.ParameterCount:N0} parameters; architecture " +
            HrmConfigJson.Serialize(a));
        if (identifiers != null && !File.Exists(besideOut))
        {
            using (var file = new AtomicFileWriter(besideOut))
            {
                file.Stream.Write(identifiers);
                file.Commit();
            }
            o.WriteLine($"wrote {besideOut} (the dataset's puzzle identifiers)");
        }
        else if (identifiers == null && a.NumPuzzleIdentifiers > 1 && !File.Exists(besideOut))
        {
            o.WriteLine($"note: the model has {a.NumPuzzleIdentifiers} puzzle identifiers; to solve ARC tasks by " +
                "name it needs the training dataset's identifiers.json beside it (--data DIR copies it)");
        }
    }

    /// <summary>The output's folder exists (created) and the output is neither the checkpoint nor any PyTorch
    /// checkpoint (the rename would replace it).</summary>
    private static void CheckOutput(string checkpoint, string output)
    {
        StringComparison cmp = OperatingSystem.IsLinux()
            ? StringComparison.Ordinal
            : StringComparison.OrdinalIgnoreCase; // macOS and Windows file systems usually ignore case
        if (string.Equals(output, Path.GetFullPath(checkpoint), cmp) ||
            (File.Exists(output) && TorchCheckpointFile.IsZip(output)))
        {
            throw new UsageException("convert",
                "--out must name a new file, not the checkpoint or another PyTorch checkpoint");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    }
}
