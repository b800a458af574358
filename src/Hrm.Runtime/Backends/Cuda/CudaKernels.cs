namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Every kernel the <see cref="CudaBackend"/> launches: each native/kernels file compiled once through the
/// <see cref="KernelCompiler"/> (disk cache) for the device's architecture, loaded as one module, and every
/// function resolved here, at build time. Nothing is looked up by name afterwards (style rule 10).
/// </summary>
internal sealed class CudaKernels : IDisposable
{
    /// <summary>The files the backend needs (stablemax_ce.cu belongs to the trainer's loss and is not loaded).</summary>
    public static readonly IReadOnlyList<string> Files =
    [
        "elementwise.cu", "embedding.cu", "rmsnorm.cu", "swiglu.cu", "rope.cu", "attention.cu", "attention_f32.cu",
        "heads.cu", "adam_atan2.cu", "signsgd.cu",
    ];

    private readonly List<CudaModule> _modules = [];

    /// <summary>Compiles (or reads from the cache) and loads every file for <paramref name="target"/>.</summary>
    public CudaKernels(CudaDevice device, KernelCompiler compiler, KernelTarget target)
    {
        try
        {
            Dictionary<string, CudaModule> m = [];
            foreach (string file in Files)
            {
                CompiledKernel k = compiler.CompileEmbedded(file, target);
                var module = CudaModule.Load(device.Context, k.Image, file);
                _modules.Add(module);
                m[file] = module;
            }
            CudaModule e = m["elementwise.cu"], emb = m["embedding.cu"], att = m["attention.cu"];
            CudaModule f32 = m["attention_f32.cu"], heads = m["heads.cu"];
            Add = e.GetFunction("add_kernel1");
            ResetCarry = e.GetFunction("reset_carry_kernel1");
            GatherRows = e.GetFunction("gather_rows_kernel1");
            EmbeddingForward = emb.GetFunction("embedding_forward_kernel1");
            EmbeddingBackwardPuzzle = emb.GetFunction("embedding_backward_puzzle_kernel1");
            EmbeddingBackwardPos = emb.GetFunction("embedding_backward_pos_kernel1");
            EmbeddingBackwardTokPartial = emb.GetFunction("embedding_backward_tok_partial_kernel1");
            EmbeddingBackwardTokReduce = emb.GetFunction("embedding_backward_tok_reduce_kernel1");
            AddRmsNormForward = m["rmsnorm.cu"].GetFunction("add_rmsnorm_forward_kernel1");
            RmsNormBackward = m["rmsnorm.cu"].GetFunction("rmsnorm_backward_kernel1");
            SwiGluForward = m["swiglu.cu"].GetFunction("swiglu_forward_kernel1");
            SwiGluBackward = m["swiglu.cu"].GetFunction("swiglu_backward_kernel1");
            RopeForward = m["rope.cu"].GetFunction("rope_forward_kernel1");
            RopeBackward = m["rope.cu"].GetFunction("rope_backward_kernel1");
            AttentionPack2 = att.GetFunction("attention_pack_kernel2");
            AttentionForward2 = att.GetFunction("attention_forward_kernel2");
            AttentionBackwardDot1 = att.GetFunction("attention_backward_dot_kernel1");
            AttentionBackwardDq2 = att.GetFunction("attention_backward_dq_kernel2");
            AttentionBackwardDkDv2 = att.GetFunction("attention_backward_dkdv_kernel2");
            AttentionForward1 = f32.GetFunction("attention_forward_kernel1");
            AttentionBackwardDq1 = f32.GetFunction("attention_backward_dq_kernel1");
            AttentionBackwardDkDv1 = f32.GetFunction("attention_backward_dkdv_kernel1");
            QHeadForward = heads.GetFunction("q_head_forward_kernel1");
            QHeadBackward = heads.GetFunction("q_head_backward_kernel1");
            LmHeadDropPrefix = heads.GetFunction("lm_head_drop_prefix_kernel1");
            LmHeadPadRows = heads.GetFunction("lm_head_pad_rows_kernel1");
            AdamATan2 = m["adam_atan2.cu"].GetFunction("adam_atan2_kernel1");
            SignSgdRows = m["signsgd.cu"].GetFunction("signsgd_rows_kernel1");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public CudaFunction Add { get; }
    public CudaFunction ResetCarry { get; }
    public CudaFunction GatherRows { get; }
    public CudaFunction EmbeddingForward { get; }
    public CudaFunction EmbeddingBackwardPuzzle { get; }
    public CudaFunction EmbeddingBackwardPos { get; }
    public CudaFunction EmbeddingBackwardTokPartial { get; }
    public CudaFunction EmbeddingBackwardTokReduce { get; }
    public CudaFunction AddRmsNormForward { get; }
    public CudaFunction RmsNormBackward { get; }
    public CudaFunction SwiGluForward { get; }
    public CudaFunction SwiGluBackward { get; }
    public CudaFunction RopeForward { get; }
    public CudaFunction RopeBackward { get; }
    public CudaFunction AttentionPack2 { get; }
    public CudaFunction AttentionForward2 { get; }
    public CudaFunction AttentionBackwardDot1 { get; }
    public CudaFunction AttentionBackwardDq2 { get; }
    public CudaFunction AttentionBackwardDkDv2 { get; }
    public CudaFunction AttentionForward1 { get; }
    public CudaFunction AttentionBackwardDq1 { get; }
    public CudaFunction AttentionBackwardDkDv1 { get; }
    public CudaFunction QHeadForward { get; }
    public CudaFunction QHeadBackward { get; }
    public CudaFunction LmHeadDropPrefix { get; }
    public CudaFunction LmHeadPadRows { get; }
    public CudaFunction AdamATan2 { get; }
    public CudaFunction SignSgdRows { get; }

    /// <summary>Unloads every module (functions become invalid).</summary>
    public void Dispose()
    {
        foreach (CudaModule m in _modules) m.Dispose();
        _modules.Clear();
    }
}
