using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>
/// Model checkpoints as safetensors with the reference's state-dict keys (a leading <c>_orig_mod.</c> is
/// accepted and stripped); the reference's own PyTorch checkpoints (<c>torch.save</c> zips) load too. Parameters and
/// the puzzle table are F32 (BF16 or F16 when saved so: <c>hrm convert --dtype</c>; any float type loads);
/// H_init/L_init are BF16 as in the reference (F32 when their values are not all bf16 values, as after loading a
/// float32-forward run of the reference: an F32 save never rounds).
/// <c>__metadata__["config"]</c> holds the architecture JSON. Loading checks the exact tensor set, every shape
/// and every dtype against the config, and names the tensor in every error.
/// </summary>
public static class HrmCheckpoint
{
    /// <summary>Metadata key holding the HrmConfig JSON.</summary>
    public const string ConfigKey = "config";

    /// <summary>Writes every tensor of <paramref name="model"/> to <paramref name="path"/> (temp file + rename).</summary>
    /// <param name="model">The model whose parameters are written.</param>
    /// <param name="path">The safetensors file.</param>
    /// <param name="extraMetadata">More <c>__metadata__</c> entries (training writes the step).</param>
    /// <param name="dtype">How the parameters are stored: F32 (the default: exactly, no value rounded) or BF16 / F16
    /// (two bytes a value, each rounded to the nearest value of that type, ties to even; the reference's forward
    /// rounds its weights to bf16 itself). H_init/L_init are BF16 whenever their values are bf16 values, as in the
    /// reference, whatever <paramref name="dtype"/> says.</param>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is not F32, BF16 or F16.</exception>
    /// <exception cref="OverflowException">F16 was asked for and a value lies beyond its range (±65,504); the message
    /// names the tensor and the element. Nothing is written then.</exception>
    public static void Save(HrmModel model, string path, IReadOnlyDictionary<string, string>? extraMetadata = null,
        TensorDType dtype = TensorDType.F32)
    {
        if (dtype is not (TensorDType.F32 or TensorDType.BF16 or TensorDType.F16))
        {
            throw new ArgumentException($"a checkpoint stores its parameters as F32, BF16 or F16, not " +
                TensorDTypes.Name(dtype), nameof(dtype));
        }
        var w = new SafeTensorsWriter();
        foreach (TensorEntry e in model.Layout.Entries)
        {
            long[] shape = e.Shape.Select(d => (long)d).ToArray();
            float[] values = model.ReadParameter(e.Name);
            bool bf16 = e.StoredAsBf16 && values.All(v => (BitConverter.SingleToUInt32Bits(v) & 0xFFFF) == 0);
            TensorDType stored = bf16 ? TensorDType.BF16 : dtype;
            if (stored == TensorDType.F16) CheckHalfRange(path, e.Name, values);
            w.Add(e.Name, stored, shape, values);
        }
        w.SetMetadata(ConfigKey, HrmConfigJson.Serialize(model.Config));
        w.SetMetadata("format", "hrm-safetensors-1");
        if (extraMetadata != null)
            foreach (KeyValuePair<string, string> kv in extraMetadata) w.SetMetadata(kv.Key, kv.Value);
        w.Save(path);
    }

    /// <summary>Throws <see cref="OverflowException"/> at the first finite value of <paramref name="values"/> that
    /// float16 would turn into an infinity.</summary>
    private static void CheckHalfRange(string path, string name, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsFinite(values[i]) && Half.IsInfinity((Half)values[i]))
            {
                throw new OverflowException($"{path}: tensor {name} element {i} is " +
                    values[i].ToString("R", System.Globalization.CultureInfo.InvariantCulture) +
                    ", beyond float16's range (±65,504): store the checkpoint as BF16 or F32");
            }
        }
    }

    /// <summary>The architecture stored in a checkpoint's metadata, or null when it has none (a PyTorch
    /// checkpoint of the reference never has one).</summary>
    public static HrmConfig? ReadConfig(string path)
    {
        if (TorchCheckpointFile.IsZip(path)) return null;
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        return ConfigOf(f);
    }

    /// <summary>The shape of one tensor of a checkpoint (safetensors or PyTorch), or null when it has none of that
    /// name.</summary>
    internal static long[]? TensorShape(string path, string name)
    {
        using CheckpointTensors f = CheckpointTensors.Open(path);
        return f.TryGet(name, out _, out long[]? shape) ? shape : null;
    }

    /// <summary>The rows of a table (an embedding: rows x width) in a checkpoint, or null when it has no tensor of that
    /// name; a shape no table has is an <see cref="HrmFormatException"/> naming it.</summary>
    internal static int? TableRows(string path, string name) => TensorShape(path, name) switch
    {
        null => null,
        [var rows and >= 1 and <= int.MaxValue, >= 1 and <= int.MaxValue] => (int)rows,
        var shape => throw new HrmFormatException(path, name, $"shape {SafeTensorInfo.FormatShape(shape)} is not a " +
            "table (rows x width, each from 1 to 2^31 - 1)"),
    };

    /// <summary>One tensor as a checkpoint stores it.</summary>
    /// <param name="Name">The state-dict key, without <c>_orig_mod.</c>.</param>
    /// <param name="DType">The stored element type.</param>
    /// <param name="Shape">The dimensions, outermost first.</param>
    internal sealed record StoredTensor(string Name, TensorDType DType, long[] Shape);

    /// <summary>What a checkpoint file holds, without reading its values: whether it is a PyTorch checkpoint, its
    /// metadata (safetensors; a PyTorch checkpoint has none) and its tensors in file order.</summary>
    internal static (bool IsTorch, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<StoredTensor> Tensors)
        Inspect(string path)
    {
        using CheckpointTensors f = CheckpointTensors.Open(path);
        return (f.IsTorch, f.Metadata, f.Stored);
    }

    /// <summary>
    /// Opens a checkpoint into a new model on <paramref name="backend"/> (the model takes ownership): our safetensors,
    /// or a PyTorch checkpoint of the reference as <c>torch.save</c> wrote it (told apart by the first bytes).
    /// <paramref name="config"/> supplies or overrides the architecture (reference checkpoints carry none).
    /// </summary>
    public static HrmModel Load(string path, IHrmBackend backend, HrmConfig? config = null)
    {
        using CheckpointTensors f = CheckpointTensors.Open(path);
        HrmConfig cfg = config ?? f.Config ?? (f.IsTorch
            ? throw new HrmFormatException(path, "config", "a PyTorch checkpoint carries no architecture: pass --config " +
                "FILE (the run's all_config.yaml, or its arch keys as JSON; HrmConfigFile.Load in an app) or --preset " +
                "NAME (the reference's task architecture; HrmPresets.Get in an app)")
            : throw new HrmFormatException(path, "__metadata__.config",
                "the checkpoint carries no architecture (a converted reference checkpoint?); pass --config FILE " +
                "(SolverOptions.Config or HrmConfigFile.Load in an app)"));
        var model = new HrmModel(cfg, backend);
        try
        {
            LoadInto(model, f);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Overwrites every tensor of <paramref name="model"/> from <paramref name="path"/> (safetensors or a
    /// PyTorch checkpoint).</summary>
    public static void LoadInto(HrmModel model, string path)
    {
        using CheckpointTensors f = CheckpointTensors.Open(path);
        LoadInto(model, f);
    }

    private static void LoadInto(HrmModel model, CheckpointTensors f)
    {
        Check(f.Path, f.Stored, model.Config);
        foreach (TensorEntry e in model.Layout.Entries)
        {
            var values = new float[e.Count];
            f.ReadAsFloat32(e.Name, values);
            model.WriteParameter(e.Name, values);
        }
    }

    /// <summary>
    /// Throws <see cref="HrmFormatException"/> naming the tensor unless <paramref name="tensors"/> (what the file at
    /// <paramref name="path"/> stores) is exactly the tensor set of <paramref name="config"/>, every shape as the config
    /// has it and every dtype a float type: what loading checks before it reads a value.
    /// </summary>
    internal static void Check(string path, IReadOnlyList<StoredTensor> tensors, HrmConfig config)
    {
        var layout = new ParameterLayout(config);
        var byName = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        foreach (StoredTensor t in tensors)
        {
            if (!layout.Contains(t.Name))
                throw new HrmFormatException(path, t.Name,
                    $"unexpected tensor: the config ({Describe(config)}) has no tensor of that name");
            byName.TryAdd(t.Name, t);
        }
        foreach (TensorEntry e in layout.Entries)
        {
            if (!byName.TryGetValue(e.Name, out StoredTensor? t))
                throw new HrmFormatException(path, e.Name, $"missing tensor {e.ShapeText} required by the config");
            if (!TensorDTypes.IsFloat(t.DType))
                throw new HrmFormatException(path, e.Name, $"dtype {TensorDTypes.Name(t.DType)} is not a float type (F32, BF16, F16, F64)");
            if (!t.Shape.SequenceEqual(e.Shape.Select(d => (long)d)))
                throw new HrmFormatException(path, e.Name, $"shape {SafeTensorInfo.FormatShape(t.Shape)} does not " +
                    $"match {e.ShapeText} expected by the config ({Describe(config)})");
        }
    }

    private static HrmConfig? ConfigOf(SafeTensorsFile f)
    {
        if (!f.Metadata.TryGetValue(ConfigKey, out string? json)) return null;
        string source = $"{f.Path}: __metadata__.config";
        try
        {
            return HrmConfigJson.Parse(json, null, source);
        }
        catch (HrmConfigException e)
        {
            // The parser names its source before the problem; the exception below names it once.
            string problem = e.Message.StartsWith(source + ": ", StringComparison.Ordinal)
                ? e.Message[(source.Length + 2)..] : e.Message;
            throw new HrmFormatException(f.Path, "__metadata__.config", problem, e);
        }
    }

    /// <summary>A checkpoint's tensors, whichever the format.</summary>
    private sealed class CheckpointTensors : IDisposable
    {
        private readonly SafeTensorsFile? _safe;
        private readonly TorchCheckpointFile? _torch;

        private CheckpointTensors(SafeTensorsFile? safe, TorchCheckpointFile? torch)
        {
            _safe = safe;
            _torch = torch;
        }

        public static CheckpointTensors Open(string path) => TorchCheckpointFile.IsZip(path)
            ? new(null, TorchCheckpointFile.Open(path))
            : new(SafeTensorsFile.Open(path), null);

        public bool IsTorch => _torch != null;

        public string Path => _safe?.Path ?? _torch!.Path;

        public HrmConfig? Config => _safe != null ? ConfigOf(_safe) : null;

        public IReadOnlyDictionary<string, string> Metadata => _safe?.Metadata ?? new Dictionary<string, string>();

        public IReadOnlyList<StoredTensor> Stored => _safe != null
            ? _safe.Tensors.Select(t => new StoredTensor(t.Name, t.DType, t.Shape)).ToList()
            : _torch!.Tensors.Select(t => new StoredTensor(t.Name, t.DType, t.Shape)).ToList();

        public bool TryGet(string name, out TensorDType dtype, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out long[]? shape)
        {
            (dtype, shape) = _safe != null
                ? _safe.TryGet(name, out SafeTensorInfo? s) ? (s.DType, s.Shape) : (default, null)
                : _torch!.Contains(name) ? (_torch.Get(name).DType, _torch.Get(name).Shape) : (default, null);
            return shape != null;
        }

        public void ReadAsFloat32(string name, Span<float> dst)
        {
            if (_safe != null) _safe.ReadAsFloat32(name, dst);
            else _torch!.ReadAsFloat32(name, dst);
        }

        public void Dispose()
        {
            _safe?.Dispose();
            _torch?.Dispose();
        }
    }

    private static string Describe(HrmConfig c) =>
        $"hidden_size {c.HiddenSize}, vocab_size {c.VocabSize}, seq_len {c.SeqLen}, H_layers {c.HLayers}, L_layers {c.LLayers}";
}
