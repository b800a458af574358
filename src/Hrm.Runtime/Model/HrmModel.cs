using Hrm.Runtime.Backends;
using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

/// <summary>
/// The HRM inner model and its ACT wrapper, written once against <see cref="IHrmBackend"/>. Parameters live in
/// one region laid out by <see cref="ParameterLayout"/> (reference state-dict keys), dense gradients in another;
/// <see cref="Reserve"/> carves every activation from one more. Forward is an explicit sequence of op calls,
/// backward the exact reverse (no autograd). Only the last L call and the last H call of a segment are recorded.
/// </summary>
public sealed partial class HrmModel : IDisposable
{
    private readonly IHrmBackend _b;
    private readonly BlockWeights[] _h, _l;
    private readonly Buf[] _hW, _lW;  // the same weights, 4 per block (Qkv, O, GateUp, Down): TryFusedModuleForward's
    private Workspace? _ws;
    private Buf _actFloats, _actInts;
    private bool _disposed;

    /// <summary>Builds the model's parameter and gradient regions (zeroed; call <see cref="Initialize"/>).</summary>
    public HrmModel(HrmConfig config, IHrmBackend backend)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(backend);
        config.Validate();
        Config = config;
        _b = backend;
        Layout = new ParameterLayout(config);
        Params = backend.Allocate(Layout.TotalElements, "parameters");
        Grads = backend.Allocate(Layout.DenseElements, "gradients");
        _h = Blocks("H", config.HLayers);
        _l = Blocks("L", config.LLayers);
        _hW = [.. _h.SelectMany(w => new[] { w.Qkv, w.O, w.GateUp, w.Down })];
        _lW = [.. _l.SelectMany(w => new[] { w.Qkv, w.O, w.GateUp, w.Down })];
    }

    /// <summary>The architecture.</summary>
    public HrmConfig Config { get; }

    /// <summary>The backend that owns every buffer.</summary>
    /// <exception cref="ObjectDisposedException">The model (and so its backend) has been disposed.</exception>
    public IHrmBackend Backend => Live()._b;

    /// <summary>Name, shape and offset of every stored tensor.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>All parameters and buffers (layout order).</summary>
    public Buf Params { get; }

    /// <summary>Dense-parameter gradients (the layout's parameter prefix).</summary>
    public Buf Grads { get; }

    /// <summary>The activation plan of the last <see cref="Reserve"/>, or null.</summary>
    public ActivationPlan? Plan { get; private set; }

    /// <summary>Batch size reserved for, or 0.</summary>
    public int Batch => _ws?.Batch ?? 0;

    /// <summary>View of the stored tensor <paramref name="name"/>.</summary>
    public Buf Param(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TensorEntry e = Layout[name];
        return Params.Slice(e.Offset, e.Count);
    }

    /// <summary>View of the gradient of dense parameter <paramref name="name"/>.</summary>
    public Buf Grad(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TensorEntry e = Layout[name];
        if (e.Kind != TensorKind.Parameter) throw new ArgumentException($"'{name}' is a buffer and has no dense gradient");
        return Grads.Slice(e.Offset, e.Count);
    }

    /// <summary>Copies tensor <paramref name="name"/> to the host.</summary>
    public float[] ReadParameter(string name)
    {
        var dst = new float[Layout[name].Count];
        _b.Download(Param(name), dst);
        return dst;
    }

    /// <summary>Overwrites tensor <paramref name="name"/> from the host.</summary>
    public void WriteParameter(string name, ReadOnlySpan<float> values) => _b.Upload(values, Param(name));

    /// <summary>Zeroes the dense gradients.</summary>
    public void ZeroGrads() => Live()._b.Fill(Grads, 0f);

    /// <summary>
    /// Sizes every activation buffer for <paramref name="batch"/> rows once. With <paramref name="training"/>,
    /// the plan also holds the two recorded module calls, the backward scratch and the Q-target forward.
    /// Nothing allocates after this; a different batch needs another Reserve.
    /// </summary>
    public void Reserve(int batch, bool training)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (_ws != null && _ws.Batch == batch && (_ws.Training || !training)) return;
        int elem = _b.ElementSize;
        (bool bf16Inter, bool bf16Qkv, bool bf16Stream, bool bf16Rec) = PlanFlags();
        var measure = new ActivationPlan(elem);
        _ = new Workspace(measure, Config, batch, training, bf16Inter, bf16Qkv, bf16Stream, bf16Rec);
        if (_ws != null)
        {
            _ws = null;
            Plan = null;
            _b.Free(_actFloats);
            _b.Free(_actInts);
        }
        Buf floats = _b.Allocate(measure.FloatElements, $"activations (B={batch})");
        Buf ints = _b.AllocateInts(Math.Max(measure.IntElements, 1), $"activation ints (B={batch})");
        (_actFloats, _actInts) = (floats, ints);
        var plan = new ActivationPlan(elem, floats.Address, ints.Address);
        _ws = new Workspace(plan, Config, batch, training, bf16Inter, bf16Qkv, bf16Stream, bf16Rec);
        Plan = plan;
        int t = Config.TotalSeqLen, hs = Config.HeadDim;
        var cos = new float[t * hs];
        var sin = new float[t * hs];
        RopeTable.Build(cos, sin, t, hs, Config.RopeTheta);
        _b.Upload(cos, _ws.RopeCos);
        _b.Upload(sin, _ws.RopeSin);
        _b.ReserveScratch(new ScratchShapes(batch, t, Config.SeqLen, Config.HiddenSize, Config.NumHeads, hs,
            Config.Intermediate, Config.VocabSize, training), GemmWeights());
        ResetActCarry();
        if (!training) return;
        var first = new int[batch];
        for (int b = 0; b < batch; b++) first[b] = b * t;
        _b.UploadInts(first, _ws.FirstRows);
    }

    /// <summary>
    /// Bytes of the activation plan for a config and batch, without allocating (hrm info, tests); with
    /// <paramref name="bf16Inter"/> as a backend with <see cref="IHrmBackend.Bf16Intermediates"/> plans it (and
    /// <paramref name="bf16Qkv"/> with <see cref="IHrmBackend.Bf16QkvForward"/>, <paramref name="bf16Stream"/> with
    /// <see cref="IHrmBackend.Bf16StreamForward"/>, <paramref name="bf16RecordedQkv"/> with
    /// <see cref="IHrmBackend.Bf16QkvRecorded"/>).
    /// </summary>
    public static ActivationPlan MeasurePlan(HrmConfig config, int batch, bool training, int elemSize = sizeof(float),
        bool bf16Inter = false, bool bf16Qkv = false, bool bf16Stream = false, bool bf16RecordedQkv = false)
    {
        var plan = new ActivationPlan(elemSize);
        _ = new Workspace(plan, config, batch, training, bf16Inter, bf16Qkv, bf16Stream, bf16RecordedQkv);
        return plan;
    }

    /// <summary>Bytes of the activation memory <see cref="Reserve"/> would allocate on this model's backend for
    /// <paramref name="batch"/> rows (without allocating; the backend's own scratch comes on top).</summary>
    public long ActivationBytes(int batch, bool training)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        (bool bf16Inter, bool bf16Qkv, bool bf16Stream, bool bf16Rec) = PlanFlags();
        ActivationPlan plan = MeasurePlan(Config, batch, training, _b.ElementSize, bf16Inter, bf16Qkv, bf16Stream,
            bf16Rec);
        return plan.Bytes(_b.ElementSize);
    }

    /// <summary>Which workspace buffers the backend wants in bf16: its GEMM intermediates, the no-grad q/k/v, the
    /// no-grad attention output and residual stream, the recorded q/k/v and its gradient.</summary>
    private (bool Bf16Inter, bool Bf16Qkv, bool Bf16Stream, bool Bf16Rec) PlanFlags()
    {
        int t = Config.TotalSeqLen, hs = Config.HeadDim;
        bool qkv = Config.PosEncodings == PosEncoding.Rope && _b.PrefersRopeInAttention && _b.Bf16QkvForward(t, hs);
        return (_b.Bf16Intermediates, qkv, qkv && _b.Bf16StreamForward(t, hs), qkv && _b.Bf16QkvRecorded(t, hs));
    }

    // Every op reaches its buffers through here: after Dispose, their memory is gone.
    internal Workspace Ws =>
        Live()._rowView ?? _ws ?? throw new InvalidOperationException("call Reserve(batch, training) first");

    /// <summary>This model, or an <see cref="ObjectDisposedException"/> once disposed (the backend's memory is freed
    /// then: any op would read or write freed memory).</summary>
    private HrmModel Live()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _b.Dispose();
    }

    /// <summary>The weights the linear layers read (Qkv, O, GateUp, Down of every block; the lm_head stays fp32).</summary>
    private Buf[] GemmWeights() =>
        [.. _hW, .. _lW];

    private BlockWeights[] Blocks(string level, int layers)
    {
        var w = new BlockWeights[layers];
        for (int i = 0; i < layers; i++)
        {
            w[i] = new BlockWeights(
                Param(Names.Qkv(level, i)), Param(Names.OProj(level, i)),
                Param(Names.GateUp(level, i)), Param(Names.Down(level, i)),
                Grad(Names.Qkv(level, i)), Grad(Names.OProj(level, i)),
                Grad(Names.GateUp(level, i)), Grad(Names.Down(level, i)));
        }
        return w;
    }
}
