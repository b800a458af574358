using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm predict</c>: evaluation-mode ACT (a fresh carry, exactly max-steps segments) on int token rows,
/// writing what the reference's evaluate script saves: logits, both Q logits, and the argmax predictions.
/// </summary>
internal static class PredictCommand
{
    public const string Usage =
        "hrm predict --checkpoint FILE --inputs inputs.npy [--puzzle-identifiers ids.npy] [--config FILE | --preset NAME]\n" +
        "            [--max-steps N] [--batch-size N] [--device auto|cpu|cuda[:N]|reference] [--threads N]\n" +
        "            --out DIR " + GemmArgs.ModelUsage;

    private static readonly string[] Options =
        ["checkpoint", "inputs", "puzzle-identifiers", "config", "preset", "max-steps", "batch-size", "device", "threads", "out"];

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("predict", argv, Options, flags: GemmArgs.ModelFlags);
        _ = GemmArgs.Cuda(args, "predict"); // both flags: a usage error before any file is read
        string ckpt = args.Require("checkpoint"), inputsPath = args.Require("inputs");
        string outDir = args.GetOutDir("out") ?? args.Require("out");
        // A run config leaves seq_len to the data (the inputs' rows) and vocab_size, num_puzzle_identifiers to it too
        // (the checkpoint's tensors say them).
        HrmConfig? cfgOverride = ConfigSource.ForCheckpoint(args, ckpt, err, () =>
        {
            long[] shape = Npy.Read(inputsPath).Shape;
            (int vocab, int ids) = ConfigSource.FromTensors(ckpt);
            return (shape.Length == 2 ? (int)shape[1] : 0, vocab, ids);
        });
        int threads = args.GetThreads();
        IHrmBackend backend = BackendFactory.Create(args.Get("device") ?? "auto", threads, GemmArgs.Cuda(args, "predict"),
            out string notice);
        using HrmModel model = HrmCheckpoint.Load(ckpt, backend, cfgOverride);
        HrmConfig cfg = model.Config;
        int maxSteps = args.GetMaxSteps(cfg.HaltMaxSteps);
        (int[] tokens, int n) = ReadInputs(inputsPath, cfg);
        int[] ids = args.Get("puzzle-identifiers") is { } idPath ? ReadIds(idPath, n, cfg) : new int[n];
        int batch = Math.Min(args.GetInt("batch-size", 64, min: 1), Math.Max(n, 1));
        o.WriteLine($"{notice}; {n} rows, batch {batch}, {maxSteps} segments per row");

        int l = cfg.SeqLen, v = cfg.VocabSize;
        var logits = new float[(long)n * l * v];
        var qHalt = new float[n];
        var qCont = new float[n];
        model.Reserve(batch, training: false);
        var chunkTokens = new int[batch * l];
        var chunkIds = new int[batch];
        var chunkLogits = new float[batch * l * v];
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            Array.Clear(chunkTokens); // padding rows: pad token 0, blank puzzle id 0; their outputs are dropped
            Array.Clear(chunkIds);
            tokens.AsSpan(start * l, rows * l).CopyTo(chunkTokens);
            ids.AsSpan(start, rows).CopyTo(chunkIds);
            ActState s = model.Evaluate(chunkTokens, chunkIds, maxSteps);
            model.ReadLogits(chunkLogits);
            chunkLogits.AsSpan(0, rows * l * v).CopyTo(logits.AsSpan(start * l * v));
            s.QHalt.AsSpan(0, rows).CopyTo(qHalt.AsSpan(start));
            s.QContinue.AsSpan(0, rows).CopyTo(qCont.AsSpan(start));
        }
        var outputs = new EvalOutputs(n, l, v);
        logits.CopyTo(outputs.Logits, 0);
        qHalt.CopyTo(outputs.QHalt, 0);
        qCont.CopyTo(outputs.QContinue, 0);
        int[] predictions = WriteOutputs(outDir, outputs, n, l, v, o);
        TextAnswersFile.Write(outDir, null, predictions, n, l, o);  // no dataset: an earlier eval's answers go
        return 0;
    }

    /// <summary>Writes logits.npy, q_halt_logits.npy, q_continue_logits.npy and predictions.npy (argmax).</summary>
    public static int[] WriteOutputs(string outDir, EvalOutputs r, int n, int l, int v, TextWriter o)
    {
        var predictions = new int[n * l];
        for (int i = 0; i < n * l; i++) predictions[i] = ArgMax(r.Logits.AsSpan(i * v, v));
        Directory.CreateDirectory(outDir);
        Npy.WriteFloat32(Path.Combine(outDir, "logits.npy"), r.Logits, [n, l, v]);
        Npy.WriteFloat32(Path.Combine(outDir, "q_halt_logits.npy"), r.QHalt, [n]);
        Npy.WriteFloat32(Path.Combine(outDir, "q_continue_logits.npy"), r.QContinue, [n]);
        Npy.WriteInt32(Path.Combine(outDir, "predictions.npy"), predictions, [n, l]);
        o.WriteLine($"wrote logits.npy [{n}, {l}, {v}], q_halt_logits.npy, q_continue_logits.npy, predictions.npy to {outDir}");
        RemoveStale(outDir, "segments.npy", "an eval --halting", o);
        return predictions;
    }

    /// <summary>
    /// Deletes <paramref name="name"/> from <paramref name="outDir"/> where an earlier run of another kind left it
    /// (the reference evaluation writes logits.npy, the halting evaluation segments.npy): beside this run's files it
    /// would pass for one of them.
    /// </summary>
    internal static void RemoveStale(string outDir, string name, string writer, TextWriter o)
    {
        string path = Path.Combine(outDir, name);
        if (!File.Exists(path)) return;
        File.Delete(path);
        o.WriteLine($"removed {name}, which {writer} run had left in {outDir} (this run writes none)");
    }

    /// <summary>First index of the maximum (torch.argmax's tie rule), as the loss computes it.</summary>
    public static int ArgMax(ReadOnlySpan<float> row) => Logits.ArgMax(row);

    private static (int[] Tokens, int N) ReadInputs(string path, HrmConfig cfg)
    {
        NpyArray a = Npy.Read(path);
        if (a.Shape.Length != 2 || a.Shape[1] != cfg.SeqLen)
            throw new HrmFormatException(path, "shape",
                $"expected [N, {cfg.SeqLen}] token rows (seq_len of the model), got {Npy.FormatShape(a.Shape)}");
        int[] t = a.ToInt32();
        for (int i = 0; i < t.Length; i++)
        {
            if ((uint)t[i] >= (uint)cfg.VocabSize)
                throw new HrmFormatException(path, $"row {i / cfg.SeqLen}, position {i % cfg.SeqLen}",
                    $"token {t[i]} is outside the vocabulary [0, {cfg.VocabSize})");
        }
        return (t, (int)a.Shape[0]);
    }

    private static int[] ReadIds(string path, int n, HrmConfig cfg)
    {
        NpyArray a = Npy.Read(path);
        if (a.Shape.Length != 1 || a.Shape[0] != n)
            throw new HrmFormatException(path, "shape", $"expected [{n}] puzzle identifiers (one per input row), got {Npy.FormatShape(a.Shape)}");
        int[] ids = a.ToInt32();
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)cfg.NumPuzzleIdentifiers)
                throw new HrmFormatException(path, $"row {i}", $"identifier {ids[i]} is outside [0, {cfg.NumPuzzleIdentifiers})");
        }
        return ids;
    }
}
