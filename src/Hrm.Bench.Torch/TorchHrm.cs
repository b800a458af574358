using TorchSharp;
using static TorchSharp.torch;

namespace Hrm.Bench.Torch;

/// <summary>
/// The TorchSharp twin of the HRM inner model (spec 1.2-1.8), fp32 on the CPU, with autograd. Weights come from a
/// safetensors checkpoint with the reference's keys; dense parameters are leaf tensors that collect gradients,
/// buffers (puzzle table, H_init, L_init) are not. The forward is in <c>TorchHrm.Forward.cs</c>.
/// </summary>
public sealed partial class TorchHrm : IDisposable
{
    private readonly Dictionary<string, Tensor> _t = new(StringComparer.Ordinal);
    private readonly Tensor _cos, _sin; // (S, 1, d_h): broadcast over batch and heads
    private bool _disposed;

    private TorchHrm(TwinConfig config, List<TwinTensor> tensors)
    {
        Config = config;
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var expected = TwinNames.Expected(config);
        foreach (string name in byName.Keys)
        {
            if (!expected.Exists(e => e.Name == name))
                throw new InvalidDataException($"checkpoint tensor '{name}' is not part of the model for this config");
        }
        var parameters = new List<string>();
        foreach ((string name, long[] shape, bool buffer) in expected)
        {
            if (!byName.TryGetValue(name, out TwinTensor? t))
                throw new InvalidDataException($"checkpoint lacks '{name}' [{string.Join(", ", shape)}]");
            if (!t.Shape.SequenceEqual(shape))
                throw new InvalidDataException(
                    $"'{name}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
            _t[name] = tensor(t.Values, shape, ScalarType.Float32, requires_grad: !buffer);
            if (!buffer) parameters.Add(name);
        }
        ParameterNames = parameters;
        (_cos, _sin) = RopeTables(config);
    }

    /// <summary>The architecture read from the checkpoint.</summary>
    public TwinConfig Config { get; }

    /// <summary>Dense parameters (leaf tensors with gradients), in checkpoint-layout order.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>Loads a checkpoint written by <c>HrmCheckpoint.Save</c> (architecture in <c>__metadata__.config</c>).</summary>
    public static TorchHrm Load(string path)
    {
        TorchNative.EnsureLoaded();
        (List<TwinTensor> tensors, Dictionary<string, string> meta) = TwinCheckpoint.Read(path);
        if (!meta.TryGetValue("config", out string? json))
            throw new InvalidDataException($"{path}: no architecture in __metadata__.config");
        return new TorchHrm(TwinConfig.Parse(json), tensors);
    }

    /// <summary>The stored tensor <paramref name="name"/> (a parameter or buffer; not a copy).</summary>
    public Tensor this[string name] => _t.TryGetValue(name, out Tensor? t)
        ? t
        : throw new KeyNotFoundException($"the twin has no tensor '{name}'");

    /// <summary>Copies tensor <paramref name="name"/> to the host.</summary>
    public float[] Read(string name) => ToArray(this[name]);

    /// <summary>Copies the gradient of parameter <paramref name="name"/> (zeros when none was computed).</summary>
    public float[] ReadGrad(string name)
    {
        Tensor? g = this[name].grad;
        return g is null ? new float[this[name].numel()] : ToArray(g);
    }

    /// <summary>Drops every parameter gradient.</summary>
    public void ZeroGrad()
    {
        foreach (string name in ParameterNames)
        {
            Tensor? g = _t[name].grad;
            if (g is not null)
            {
                using (no_grad()) g.zero_();
            }
        }
    }

    /// <summary>A fresh carry: H_init and L_init broadcast to every row and position (spec 1.8).</summary>
    public TwinCarry InitialCarry(int batch)
    {
        long s = Config.TotalSeqLen, d = Config.HiddenSize;
        return new TwinCarry(_t[TwinNames.HInit].expand(batch, s, d).clone(), _t[TwinNames.LInit].expand(batch, s, d).clone());
    }

    /// <summary>Rows with <paramref name="halted"/> set go back to H_init / L_init; others keep their state.</summary>
    public void ResetRows(TwinCarry carry, bool[] halted)
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor mask = tensor(halted).view(-1, 1, 1);
        Tensor zH = where(mask, _t[TwinNames.HInit], carry.ZH);
        Tensor zL = where(mask, _t[TwinNames.LInit], carry.ZL);
        carry.Replace(zH, zL);
    }

    /// <summary>Int tokens (B·L) as a (B, L) int64 tensor.</summary>
    public Tensor Tokens(int[] tokens, int batch) =>
        tensor(tokens.Select(x => (long)x).ToArray(), [batch, Config.SeqLen], ScalarType.Int64);

    /// <summary>The puzzle rows W_p[ids] (B, Pd) as a new tensor; make it a leaf with requires_grad_ to train it.</summary>
    public Tensor PuzzleRows(int[] ids)
    {
        if (Config.PuzzleEmbNdim == 0) return zeros(ids.Length, 0);
        using Tensor idx = tensor(ids.Select(x => (long)x).ToArray(), ScalarType.Int64);
        using (no_grad()) return _t[TwinNames.PuzzleEmb].index_select(0, idx);
    }

    /// <summary>Copies a tensor to a float array (row-major).</summary>
    public static float[] ToArray(Tensor t)
    {
        using Tensor c = t.detach().contiguous().to_type(ScalarType.Float32);
        return c.data<float>().ToArray();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (Tensor t in _t.Values) t.Dispose();
        _cos.Dispose();
        _sin.Dispose();
    }

    /// <summary>
    /// RoPE tables as the reference builds them, in fp32: cos/sin of concat(θ, θ), θ[p,k] = p·base^(−2k/d_h).
    /// </summary>
    private static (Tensor Cos, Tensor Sin) RopeTables(TwinConfig c)
    {
        using DisposeScope scope = NewDisposeScope();
        long hd = c.HeadDim;
        Tensor invFreq = 1.0f / pow(tensor((float)c.RopeTheta), arange(0, hd, 2, ScalarType.Float32) / hd);
        Tensor pos = arange(0, c.TotalSeqLen, 1, ScalarType.Float32);
        Tensor freqs = outer(pos, invFreq);
        Tensor emb = cat([freqs, freqs], -1).unsqueeze(1); // (S, 1, d_h)
        return (scope.MoveToOuter(emb.cos()), scope.MoveToOuter(emb.sin()));
    }
}
