namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Every kernel the <see cref="CudaBackend"/> launches: each native/kernels file compiled once through the
/// <see cref="KernelCompiler"/> (disk cache) for the device's architecture, loaded as one module, and every
/// function resolved here, at build time. Nothing is looked up by name afterwards (style rule 10).
/// </summary>
internal sealed class CudaKernels : IDisposable
{
    /// <summary>The files the backend needs (every file of native/kernels).</summary>
    public static readonly IReadOnlyList<string> Files =
    [
        "elementwise.cu", "embedding.cu", "rmsnorm.cu", "swiglu.cu", "rope.cu", "attention.cu",
        "attention_backward.cu", "attention_backward_short.cu", "attention_f32.cu", "heads.cu", "adam_atan2.cu",
        "signsgd.cu", "stablemax_ce.cu", "act.cu", "module_fused.cu",
    ];

    /// <summary>
    /// Every kernel the backend launches: file, <c>extern "C"</c> name and parameter signature, one character per
    /// parameter in order: <c>p</c> a device pointer (8 bytes), <c>l</c> an <c>i64</c>, <c>i</c> an <c>int</c>,
    /// <c>f</c> a <c>float</c> (the kernels README's calling conventions). Every launch names the signature it packs
    /// and is refused when it differs; <c>CudaKernelAbiTests</c> checks this table against the compiled PTX.
    /// </summary>
    public static readonly IReadOnlyList<KernelSignature> Table =
    [
        new("elementwise.cu", "add_kernel1", "ppppl"),
        new("elementwise.cu", "add_kernel2", "ppppl"),
        new("elementwise.cu", "reset_carry_kernel1", "pppiii"),
        new("elementwise.cu", "gather_rows_kernel1", "pppiii"),
        new("elementwise.cu", "gather_rows_kernel2", "pppiii"),
        new("elementwise.cu", "f32_to_bf16_kernel1", "ppl"),
        new("embedding.cu", "embedding_forward_kernel1", "pppppiiiiiif"),
        new("embedding.cu", "embedding_backward_puzzle_kernel1", "ppiiiiifi"),
        new("embedding.cu", "embedding_backward_pos_kernel1", "ppiiif"),
        new("embedding.cu", "embedding_backward_tok_partial_kernel1", "pppiiiiifi"),
        new("embedding.cu", "embedding_backward_tok_reduce_kernel1", "ppiii"),
        new("rmsnorm.cu", "add_rmsnorm_forward_kernel1", "pppppiif"),
        new("rmsnorm.cu", "add_rmsnorm_forward_kernel2", "pppppiif"),
        new("rmsnorm.cu", "add_rmsnorm_forward_kernel3", "pppppiif"),
        new("rmsnorm.cu", "rmsnorm_backward_kernel1", "pppppii"),
        new("swiglu.cu", "swiglu_forward_kernel1", "pppii"),
        new("swiglu.cu", "swiglu_backward_kernel1", "ppppii"),
        new("swiglu.cu", "swiglu_forward_kernel2", "ppii"),
        new("swiglu.cu", "swiglu_backward_kernel2", "ppppii"),
        new("swiglu.cu", "swiglu_forward_kernel3", "ppii"),
        new("swiglu.cu", "swiglu_backward_kernel3", "ppppii"),
        new("rope.cu", "rope_forward_kernel1", "pppiiii"),
        new("rope.cu", "rope_backward_kernel1", "pppiiii"),
        new("attention.cu", "attention_pack_kernel2", "ppiiii"),
        new("attention.cu", "attention_pack_rope_kernel2", "ppppiiii"),
        new("attention.cu", "attention_rope_rows_kernel1", "ppppiii"),
        new("attention.cu", "attention_forward_kernel2", "ppppiii"),
        new("attention.cu", "attention_forward_kernel5", "ppppppliii"),
        new("attention.cu", "attention_forward_rope_kernel3", "ppppppiiii"),
        new("attention.cu", "attention_forward_rope_kernel4", "ppppppiii"),
        new("attention.cu", "attention_forward_rope_kernel6", "ppppppiii"),
        new("attention_backward.cu", "attention_backward_dot_kernel1", "ppppiiii"),
        new("attention_backward.cu", "attention_backward_dq_kernel2", "ppppppppiii"),
        new("attention_backward.cu", "attention_backward_dkdv_kernel2", "ppppppppiii"),
        new("attention_backward_short.cu", "attention_backward_kernel3", "ppppppppiii"),
        new("attention_backward_short.cu", "attention_backward_kernel4", "ppppppppiii"),
        new("attention_f32.cu", "attention_forward_kernel1", "pppiiii"),
        new("attention_f32.cu", "attention_backward_dq_kernel1", "pppppiiii"),
        new("attention_f32.cu", "attention_backward_dkdv_kernel1", "pppppiiii"),
        new("heads.cu", "q_head_forward_kernel1", "ppppiii"),
        new("heads.cu", "q_head_backward_kernel1", "ppppppiii"),
        new("heads.cu", "lm_head_pad_rows_kernel1", "ppiiii"),
        new("adam_atan2.cu", "adam_atan2_kernel1", "ppppplfffffp"),
        new("signsgd.cu", "signsgd_rows_kernel1", "pppiiiffp"),
        new("stablemax_ce.cu", "stablemax_ce_kernel1", "ppppppppiiiiii"),
        new("act.cu", "select_rows_kernel1", "pppii"),
        new("act.cu", "act_halt_kernel1", "ppppiii"),
        new("act.cu", "act_target_kernel1", "pppii"),
        new("act.cu", "act_metrics_kernel1", "pppppppii"),
        new("module_fused.cu", "module_forward_fused_kernel1", FusedModuleSignature),
        new("module_fused.cu", "grid_barrier_bench_kernel1", "pi"),
    ];

    /// <summary>module_forward_fused_kernel1's: 15 buffers, 16 weights, 7 ints, eps.</summary>
    public const string FusedModuleSignature = "ppppppppppppppp" + "pppppppppppppppp" + "iiiiiii" + "f";

    private readonly List<CudaModule> _modules = [];

    /// <summary>Compiles (or reads from the cache) and loads every file for <paramref name="target"/>.</summary>
    public CudaKernels(CudaDevice device, KernelCompiler compiler, KernelTarget target)
    {
        try
        {
            Dictionary<string, CudaModule> modules = [];
            foreach (string file in Files)
            {
                CompiledKernel k = compiler.CompileEmbedded(file, target);
                var module = CudaModule.Load(device.Context, k.Image, file);
                _modules.Add(module);
                modules[file] = module;
            }
            Dictionary<string, Kernel> f = [];
            foreach (KernelSignature s in Table)
                f[s.Name] = new Kernel(modules[s.File].GetFunction(s.Name), s.Parameters);
            Add = f["add_kernel1"];
            AddVec = f["add_kernel2"];
            ResetCarry = f["reset_carry_kernel1"];
            GatherRows = f["gather_rows_kernel1"];
            GatherRowsBf16 = f["gather_rows_kernel2"];
            F32ToBf16 = f["f32_to_bf16_kernel1"];
            EmbeddingForward = f["embedding_forward_kernel1"];
            EmbeddingBackwardPuzzle = f["embedding_backward_puzzle_kernel1"];
            EmbeddingBackwardPos = f["embedding_backward_pos_kernel1"];
            EmbeddingBackwardTokPartial = f["embedding_backward_tok_partial_kernel1"];
            EmbeddingBackwardTokReduce = f["embedding_backward_tok_reduce_kernel1"];
            AddRmsNormForward = f["add_rmsnorm_forward_kernel1"];
            AddRmsNormForwardBf16 = f["add_rmsnorm_forward_kernel2"];
            AddRmsNormForwardBf16Stream = f["add_rmsnorm_forward_kernel3"];
            RmsNormBackward = f["rmsnorm_backward_kernel1"];
            SwiGluForward = f["swiglu_forward_kernel1"];
            SwiGluBackward = f["swiglu_backward_kernel1"];
            SwiGluForwardBf16 = f["swiglu_forward_kernel2"];
            SwiGluBackwardBf16 = f["swiglu_backward_kernel2"];
            SwiGluForwardBf16Vec = f["swiglu_forward_kernel3"];
            SwiGluBackwardBf16Vec = f["swiglu_backward_kernel3"];
            RopeForward = f["rope_forward_kernel1"];
            RopeBackward = f["rope_backward_kernel1"];
            AttentionPack2 = f["attention_pack_kernel2"];
            AttentionPackRope2 = f["attention_pack_rope_kernel2"];
            AttentionRopeRows1 = f["attention_rope_rows_kernel1"];
            AttentionForward2 = f["attention_forward_kernel2"];
            AttentionForward5 = f["attention_forward_kernel5"];
            AttentionForwardRope3 = f["attention_forward_rope_kernel3"];
            AttentionForwardRope4 = f["attention_forward_rope_kernel4"];
            AttentionForwardRope6 = f["attention_forward_rope_kernel6"];
            AttentionBackwardDot1 = f["attention_backward_dot_kernel1"];
            AttentionBackwardDq2 = f["attention_backward_dq_kernel2"];
            AttentionBackwardDkDv2 = f["attention_backward_dkdv_kernel2"];
            AttentionBackward3 = f["attention_backward_kernel3"];
            AttentionBackward4 = f["attention_backward_kernel4"];
            AttentionForward1 = f["attention_forward_kernel1"];
            AttentionBackwardDq1 = f["attention_backward_dq_kernel1"];
            AttentionBackwardDkDv1 = f["attention_backward_dkdv_kernel1"];
            QHeadForward = f["q_head_forward_kernel1"];
            QHeadBackward = f["q_head_backward_kernel1"];
            LmHeadPadRows = f["lm_head_pad_rows_kernel1"];
            AdamATan2 = f["adam_atan2_kernel1"];
            SignSgdRows = f["signsgd_rows_kernel1"];
            StablemaxCe = f["stablemax_ce_kernel1"];
            SelectRows = f["select_rows_kernel1"];
            ActHalt = f["act_halt_kernel1"];
            ActTarget = f["act_target_kernel1"];
            ActMetrics = f["act_metrics_kernel1"];
            ModuleForwardFused = f["module_forward_fused_kernel1"];
            GridBarrierBench = f["grid_barrier_bench_kernel1"];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Kernel Add { get; }
    public Kernel AddVec { get; }  // add_kernel2: 4 per thread (16-byte aligned dst, a, b)
    public Kernel ResetCarry { get; }
    public Kernel GatherRows { get; }
    public Kernel GatherRowsBf16 { get; }  // kernel2: bf16 rows
    public Kernel F32ToBf16 { get; }
    public Kernel EmbeddingForward { get; }
    public Kernel EmbeddingBackwardPuzzle { get; }
    public Kernel EmbeddingBackwardPos { get; }
    public Kernel EmbeddingBackwardTokPartial { get; }
    public Kernel EmbeddingBackwardTokReduce { get; }
    public Kernel AddRmsNormForward { get; }
    public Kernel AddRmsNormForwardBf16 { get; }  // kernel2: b in bf16
    public Kernel AddRmsNormForwardBf16Stream { get; }  // kernel3: a and b in bf16, out optional
    public Kernel RmsNormBackward { get; }
    public Kernel SwiGluForward { get; }
    public Kernel SwiGluBackward { get; }
    public Kernel SwiGluForwardBf16 { get; }   // kernel2: bf16 gateUp and act
    public Kernel SwiGluBackwardBf16 { get; }  // kernel2: bf16 gateUp
    public Kernel SwiGluForwardBf16Vec { get; }  // kernel3: kernel2, 8 elements per thread (I % 8 == 0, 16-byte aligned)
    public Kernel SwiGluBackwardBf16Vec { get; } // kernel3: likewise
    public Kernel RopeForward { get; }
    public Kernel RopeBackward { get; }
    public Kernel AttentionPack2 { get; }
    public Kernel AttentionPackRope2 { get; }
    public Kernel AttentionRopeRows1 { get; }      // RoPE of a bf16 qkv into a scratch of its layout
    public Kernel AttentionForward2 { get; }
    public Kernel AttentionForward5 { get; }       // kernel2 reading bf16 rows in place
    public Kernel AttentionForwardRope3 { get; }
    public Kernel AttentionForwardRope4 { get; }   // kernel3 on a bf16 qkv
    public Kernel AttentionForwardRope6 { get; }   // kernel4 at 4 blocks per SM
    public Kernel AttentionBackwardDot1 { get; }
    public Kernel AttentionBackwardDq2 { get; }
    public Kernel AttentionBackwardDkDv2 { get; }
    public Kernel AttentionBackward3 { get; }       // T <= 128: the whole backward of a head in one block
    public Kernel AttentionBackward4 { get; }       // kernel3 on the recorded bf16, pre-RoPE qkv
    public Kernel AttentionForward1 { get; }
    public Kernel AttentionBackwardDq1 { get; }
    public Kernel AttentionBackwardDkDv1 { get; }
    public Kernel QHeadForward { get; }
    public Kernel QHeadBackward { get; }
    public Kernel LmHeadPadRows { get; }
    public Kernel AdamATan2 { get; }
    public Kernel SignSgdRows { get; }
    public Kernel StablemaxCe { get; }
    public Kernel SelectRows { get; }
    public Kernel ActHalt { get; }
    public Kernel ActTarget { get; }
    public Kernel ActMetrics { get; }
    public Kernel ModuleForwardFused { get; }  // a whole no-grad module call, persistent (grid barriers)
    public Kernel GridBarrierBench { get; }    // grid barriers alone (hrm-bench)

    /// <summary>Unloads every module (functions become invalid).</summary>
    public void Dispose()
    {
        foreach (CudaModule m in _modules) m.Dispose();
        _modules.Clear();
    }
}

/// <summary>A kernel's file, name and parameter signature (see <see cref="CudaKernels.Table"/>).</summary>
internal readonly record struct KernelSignature(string File, string Name, string Parameters);

/// <summary>A resolved kernel and its parameter signature.</summary>
internal readonly record struct Kernel(CudaFunction Function, string Parameters);
