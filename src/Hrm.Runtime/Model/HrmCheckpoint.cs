using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Model;

/// <summary>
/// Model checkpoints as safetensors with the reference's state-dict keys (a leading <c>_orig_mod.</c> is
/// accepted and stripped). Parameters and the puzzle table are F32; H_init/L_init are BF16 as in the reference.
/// <c>__metadata__["config"]</c> holds the architecture JSON. Loading checks the exact tensor set, every shape
/// and every dtype against the config, and names the tensor in every error.
/// </summary>
public static class HrmCheckpoint
{
    /// <summary>Metadata key holding the HrmConfig JSON.</summary>
    public const string ConfigKey = "config";

    /// <summary>Writes every tensor of <paramref name="model"/> to <paramref name="path"/> (temp file + rename).</summary>
    public static void Save(HrmModel model, string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var w = new SafeTensorsWriter();
        foreach (TensorEntry e in model.Layout.Entries)
        {
            long[] shape = e.Shape.Select(d => (long)d).ToArray();
            w.Add(e.Name, e.StoredAsBf16 ? TensorDType.BF16 : TensorDType.F32, shape, model.ReadParameter(e.Name));
        }
        w.SetMetadata(ConfigKey, HrmConfigJson.Serialize(model.Config));
        w.SetMetadata("format", "hrm-safetensors-1");
        if (extraMetadata != null)
            foreach (KeyValuePair<string, string> kv in extraMetadata) w.SetMetadata(kv.Key, kv.Value);
        w.Save(path);
    }

    /// <summary>The architecture stored in a checkpoint's metadata, or null when it has none.</summary>
    public static HrmConfig? ReadConfig(string path)
    {
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        return ConfigOf(f);
    }

    /// <summary>
    /// Opens a checkpoint into a new model on <paramref name="backend"/> (the model takes ownership).
    /// <paramref name="config"/> supplies or overrides the architecture (reference checkpoints carry none).
    /// </summary>
    public static HrmModel Load(string path, IHrmBackend backend, HrmConfig? config = null)
    {
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        HrmConfig cfg = config ?? ConfigOf(f) ?? throw new HrmFormatException(path, "__metadata__.config",
            "the checkpoint carries no architecture (a converted reference checkpoint?); pass --config FILE");
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

    /// <summary>Overwrites every tensor of <paramref name="model"/> from <paramref name="path"/>.</summary>
    public static void LoadInto(HrmModel model, string path)
    {
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        LoadInto(model, f);
    }

    private static void LoadInto(HrmModel model, SafeTensorsFile f)
    {
        ParameterLayout layout = model.Layout;
        foreach (SafeTensorInfo t in f.Tensors)
        {
            if (!layout.Contains(t.Name))
                throw new HrmFormatException(f.Path, t.Name,
                    $"unexpected tensor: the config ({Describe(model.Config)}) has no tensor of that name");
        }
        foreach (TensorEntry e in layout.Entries)
        {
            if (!f.Contains(e.Name))
                throw new HrmFormatException(f.Path, e.Name, $"missing tensor {e.ShapeText} required by the config");
            SafeTensorInfo t = f.Get(e.Name);
            if (!TensorDTypes.IsFloat(t.DType))
                throw new HrmFormatException(f.Path, e.Name, $"dtype {TensorDTypes.Name(t.DType)} is not a float type (F32, BF16, F16, F64)");
            if (!t.Shape.SequenceEqual(e.Shape.Select(d => (long)d)))
                throw new HrmFormatException(f.Path, e.Name,
                    $"shape {t.ShapeText} does not match {e.ShapeText} expected by the config ({Describe(model.Config)})");
            var values = new float[e.Count];
            f.ReadAsFloat32(e.Name, values);
            model.WriteParameter(e.Name, values);
        }
    }

    private static HrmConfig? ConfigOf(SafeTensorsFile f)
    {
        if (!f.Metadata.TryGetValue(ConfigKey, out string? json)) return null;
        try
        {
            return HrmConfigJson.Parse(json, null, $"{f.Path}: __metadata__.config");
        }
        catch (HrmConfigException e)
        {
            throw new HrmFormatException(f.Path, "__metadata__.config", e.Message);
        }
    }

    private static string Describe(HrmConfig c) =>
        $"hidden_size {c.HiddenSize}, vocab_size {c.VocabSize}, seq_len {c.SeqLen}, H_layers {c.HLayers}, L_layers {c.LLayers}";
}
