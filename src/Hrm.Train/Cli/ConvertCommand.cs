using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm convert</c>: one self-contained safetensors file from a checkpoint, typically the reference's own
/// (<c>step_N</c>, torch.save, no architecture): the architecture from its all_config.yaml (beside it, or
/// <c>--config</c>) and the dataset's dimensions go into the file's metadata, so that an app loads it alone
/// (<c>HrmSolver.Load("model.safetensors")</c>). Values are copied, never rounded, unless <c>--dtype bf16|f16</c>
/// asks for two bytes a value (half the file). The identifiers.json (ARC tasks and text groups are found by name
/// through it) and alphabet.json (a text task's symbols) of <c>--data</c>, or else those beside the checkpoint, are put
/// beside the output too.
/// </summary>
internal static class ConvertCommand
{
    public const string Usage =
        "hrm convert --checkpoint FILE [--config FILE | --preset NAME] [--data DIR | --seq-len N]\n" +
        "            [--dtype f32|bf16|f16] --out model.safetensors";

    /// <summary>The files a checkpoint folder carries for solving: the dataset's puzzle names and a text task's
    /// alphabet.</summary>
    private static readonly string[] Companions = [DatasetLayout.IdentifiersFile, TextAlphabet.FileName];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("convert", argv, ["checkpoint", "config", "preset", "data", "seq-len", "dtype", "out"]);
        TensorDType dtype = ParseDType(args.Get("dtype"));
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
        WriteWithCompanions(model, output, dtype, data ?? CheckpointDir(ckpt), o);
        return 0;
    }

    /// <summary>The stored type <c>--dtype</c> names (F32 when absent).</summary>
    private static TensorDType ParseDType(string? value) => value?.ToLowerInvariant() switch
    {
        null or "f32" or "float32" => TensorDType.F32,
        "bf16" or "bfloat16" => TensorDType.BF16,
        "f16" or "float16" => TensorDType.F16,
        _ => throw new UsageException("convert", $"--dtype {value}: expected f32, bf16 or f16"),
    };

    /// <summary>The folder a checkpoint (file or folder) lies in.</summary>
    private static string CheckpointDir(string checkpoint) => Directory.Exists(checkpoint)
        ? checkpoint : Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;

    /// <summary>Saves <paramref name="model"/> to <paramref name="output"/> and puts the companion files of
    /// <paramref name="from"/> (the dataset, or the checkpoint's folder) beside it (refused when a different one is
    /// there already), or notes that a model with puzzle identifiers lacks their names.</summary>
    private static void WriteWithCompanions(HrmModel model, string output, TensorDType dtype, string from, TextWriter o)
    {
        string to = Path.GetDirectoryName(output)!;
        var copies = new List<(string Path, byte[] Bytes)>();
        foreach (string name in Companions)
        {
            string src = Path.Combine(from, name);
            if (!File.Exists(src)) continue;
            int max = name == TextAlphabet.FileName ? BoundedFile.MaxJsonBytes : BoundedFile.MaxIdentifiersBytes;
            byte[] bytes = BoundedFile.ReadAllBytes(src, name, max);
            string dst = Path.Combine(to, name);
            if (!File.Exists(dst)) copies.Add((dst, bytes));
            else if (!BoundedFile.ReadAllBytes(dst, name, max).AsSpan().SequenceEqual(bytes))
            {
                throw new IOException($"{dst} exists and differs from {src}: write the model into another folder " +
                    $"(each checkpoint folder holds the {name} of the dataset it was trained on)");
            }
        }
        HrmCheckpoint.Save(model, output, null, dtype);
        o.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB, parameters as " +
            $"{TensorDTypes.Name(dtype)}): {model.Layout.ParameterCount:N0} parameters; architecture " +
            HrmConfigJson.Serialize(model.Config));
        foreach ((string dst, byte[] bytes) in copies)
        {
            using (var file = new AtomicFileWriter(dst))
            {
                file.Stream.Write(bytes);
                file.Commit();
            }
            o.WriteLine($"wrote {dst} (from {from})");
        }
        if (model.Config.NumPuzzleIdentifiers > 1 && !File.Exists(Path.Combine(to, DatasetLayout.IdentifiersFile)))
        {
            o.WriteLine($"note: the model has {model.Config.NumPuzzleIdentifiers} puzzle identifiers; to solve ARC " +
                "tasks or text groups by name it needs the training dataset's identifiers.json beside it " +
                "(--data DIR copies it)");
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
