using Hrm.Runtime.Backends.Cuda.Interop;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// The linear layers and the lm_head through classic cuBLAS (fp32 GEMMs, TF32 only when asked; the linear layers
/// through cuBLASLt in bf16 when <see cref="CudaBackendOptions.Bf16Matmul"/> is set), the Q head
/// (heads.cu). cuBLAS is column-major and our buffers are row-major: a row-major (R, S) matrix is the column-major
/// (S, R) matrix with leading dimension S, i.e. its transpose. So row-major <c>Y (M,N) = X (M,K) · W (N,K)ᵀ</c> is
/// the column-major <c>Yᵀ (N×M) = Wᵀ · Xᵀ</c> = <c>gemm(OP_T, OP_N, m = N, n = M, k = K, A = W, lda = K,
/// B = X, ldb = K, C = Y, ldc = N)</c>; the backward GEMMs follow the same rule (comments at each call).
/// </summary>
public sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    public void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n)
    {
        Enter();
        MatmulDims(m, k, n);
        NeedBf16Ok(output, (long)m * n, nameof(output));
        NeedBf16Ok(inp, (long)m * k, nameof(inp));
        Need(weight, (long)n * k, nameof(weight));
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (IsBf16(output)) FillBf16Zero(output);
            else Fill(output, 0f);
            return;
        }
        if (Options.Bf16Matmul)
        {
            MatmulForwardBf16(output, inp, weight, m, k, n);
            Done();
            return;
        }
        // out (M,N) = inp (M,K) · W (N,K)ᵀ  ⇔  outᵀ (N×M) = Wᵀ · inpᵀ.
        Gemm(CublasOperation.T, CublasOperation.N, n, m, k, Ptr(weight), k, Ptr(inp), k, 0f, Ptr(output), n);
        Done();
    }

    /// <inheritdoc/>
    /// <remarks>With <paramref name="accumulate"/> the dinp GEMM reads dinp as C (beta 1): fl(product + dinp), the
    /// Add it replaces on the GEMM's fp32 product, bit for bit where the GEMM's algorithm is the same.</remarks>
    public void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false)
    {
        Enter();
        MatmulDims(m, k, n);
        NeedBf16Ok(dout, (long)m * n, nameof(dout));
        NeedBf16Ok(inp, (long)m * k, nameof(inp));
        Need(weight, (long)n * k, nameof(weight));
        Need(dweight, (long)n * k, nameof(dweight));
        bool skipDinp = dinp.IsEmpty;
        if (!skipDinp && accumulate && IsBf16(dinp))
            throw new ArgumentException("dinp: accumulate adds to an fp32 dinp; this one holds bf16", nameof(dinp));
        if (!skipDinp) NeedBf16Ok(dinp, (long)m * k, nameof(dinp));
        if (k == 0) return;
        if (n == 0)
        {
            if (skipDinp || accumulate) return;
            if (IsBf16(dinp)) FillBf16Zero(dinp);
            else Fill(dinp, 0f);
            return;
        }
        if (m == 0) return;
        if (Options.Bf16Matmul)
        {
            MatmulBackwardBf16(dinp, dweight, dout, inp, weight, m, k, n, accumulate ? 1f : 0f);
            Done();
            return;
        }
        // dinp (M,K) = dout (M,N) · W (N,K)  ⇔  dinpᵀ (K×M) = Wᵀ (K×N, col-major W) · doutᵀ (N×M).
        if (!skipDinp)
        {
            Gemm(CublasOperation.N, CublasOperation.N, k, m, n, Ptr(weight), k, Ptr(dout), n, accumulate ? 1f : 0f,
                Ptr(dinp), k);
        }
        // dW (N,K) += doutᵀ (N,M) · inp (M,K)  ⇔  dWᵀ (K×N) += inpᵀ (K×M) · dout (M×N).
        Gemm(CublasOperation.N, CublasOperation.T, k, n, m, Ptr(inp), k, Ptr(dout), n, 1f, Ptr(dweight), k);
        Done();
    }

    /// <inheritdoc/>
    public void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v)
    {
        Enter();
        HeadDims(batch, t, p, c, v);
        int l = t - p;
        Need(logits, (long)batch * l * v, nameof(logits));
        Need(zH, (long)batch * t * c, nameof(zH));
        Need(weight, (long)v * c, nameof(weight));
        if ((long)batch * l * v == 0) return;
        if (c == 0)
        {
            Fill(logits, 0f);
            return;
        }
        // Per batch entry b: logits[b]ᵀ (V×L) = Wᵀ · zH[b, P:]ᵀ; one strided-batched GEMM skips the prefix rows.
        float alpha = 1f, beta = 0f;
        CudaCheck.Cublas(Cublas.cublasGemmStridedBatchedEx(_cublas.Raw, CublasOperation.T, CublasOperation.N,
            v, l, c, &alpha, Ptr(weight), CudaDataType.R32F, c, 0, Ptr(zH) + (ulong)p * (ulong)c * sizeof(float),
            CudaDataType.R32F, c, (long)t * c, &beta, Ptr(logits), CudaDataType.R32F, v, (long)l * v, batch,
            ComputeType, Cublas.GemmDefault));
        Launches++;
        Done();
    }

    /// <inheritdoc/>
    public void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c,
        int v)
    {
        Enter();
        HeadDims(batch, t, p, c, v);
        int l = t - p;
        Need(dzH, (long)batch * t * c, nameof(dzH));
        Need(dlogits, (long)batch * l * v, nameof(dlogits));
        Need(zH, (long)batch * t * c, nameof(zH));
        Need(weight, (long)v * c, nameof(weight));
        Need(dweight, (long)v * c, nameof(dweight));
        long rows = (long)batch * t;
        if (rows == 0 || c == 0) return;
        if (v == 0)
        {
            Fill(dzH, 0f);
            return;
        }
        GridYZ(batch, "batch (lm_head rows)");
        // full (B,T,V) = dlogits with P zero rows in front of each batch entry.
        ulong full = _full.Ensure(rows * v, _stream), pdl = Ptr(dlogits);
        void** a = stackalloc void*[] { &full, &pdl, &batch, &t, &p, &v };
        Launch(_k.LmHeadPadRows, "ppiiii", new Dim3(Cdiv((long)t * v, 256), (uint)batch), 256, 0, a);
        int n = checked((int)rows);
        // dzH (B·T, C) = full (B·T, V) · W (V, C)  ⇔  dzHᵀ (C×BT) = Wᵀ (C×V) · fullᵀ (V×BT); prefix rows come out 0.
        Gemm(CublasOperation.N, CublasOperation.N, c, n, v, Ptr(weight), c, full, v, 0f, Ptr(dzH), c);
        // dW (V,C) += fullᵀ (V, B·T) · zH (B·T, C)  ⇔  dWᵀ (C×V) += zHᵀ (C×BT) · full (BT×V).
        Gemm(CublasOperation.N, CublasOperation.T, c, v, n, Ptr(zH), c, full, v, 1f, Ptr(dweight), c);
        Done();
    }

    /// <inheritdoc/>
    public void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c)
    {
        Enter();
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Need(q, 2L * batch, nameof(q));
        Need(zH, (long)batch * t * c, nameof(zH));
        Need(weight, 2L * c, nameof(weight));
        Need(bias, 2, nameof(bias));
        if (batch == 0) return;
        ulong pq = Ptr(q), pz = Ptr(zH), pw = Ptr(weight), pb = Ptr(bias);
        void** a = stackalloc void*[] { &pq, &pz, &pw, &pb, &batch, &t, &c };
        Launch(_k.QHeadForward, "ppppiii", Cdiv(batch, 8), 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    public void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c)
    {
        Enter();
        NonNegative(batch);
        NonNegative(t);
        NonNegative(c);
        Need(dzH, (long)batch * t * c, nameof(dzH));
        Need(dweight, 2L * c, nameof(dweight));
        Need(dbias, 2, nameof(dbias));
        Need(dq, 2L * batch, nameof(dq));
        Need(zH, (long)batch * t * c, nameof(zH));
        Need(weight, 2L * c, nameof(weight));
        if (batch == 0) return;
        ulong pdz = Ptr(dzH), pdw = Ptr(dweight), pdb = Ptr(dbias), pdq = Ptr(dq), pz = Ptr(zH), pw = Ptr(weight);
        void** a = stackalloc void*[] { &pdz, &pdw, &pdb, &pdq, &pz, &pw, &batch, &t, &c };
        Launch(_k.QHeadBackward, "ppppppiii", Math.Max(1u, Cdiv(c, 256)), 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    /// <remarks>b may hold bf16 (a GEMM's bf16 product); a and output may too when b does (the no-grad forwards'
    /// bf16 residual stream, <see cref="Bf16StreamForward"/>: <c>add_rmsnorm_forward_kernel3</c>). A bf16 output gets the
    /// values an fp32 output's bf16 copy would hold.</remarks>
    public void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps)
    {
        Enter();
        NonNegative(rows);
        NonNegative(c);
        NeedBf16Ok(output, (long)rows * c, nameof(output));
        Need(rstd, rows, nameof(rstd));
        NeedBf16Ok(a, (long)rows * c, nameof(a));
        NeedBf16Ok(b, (long)rows * c, nameof(b));
        if (IsBf16(output) && !IsBf16(a))
            throw new ArgumentException("output: a bf16 output needs a bf16 a (the residual stream)", nameof(output));
        if (IsBf16(a) && !IsBf16(b))
            throw new ArgumentException("b: with a bf16 a (the bf16 residual stream) b must hold bf16 too", nameof(b));
        if (rows == 0) return;
        bool half = IsBf16(output);
        if (half) _shadow = default;
        ulong po = half ? 0 : Ptr(output), ph = half ? Ptr(output) : ShadowOf(output, (long)rows * c);
        ulong pr = Ptr(rstd), pa = Ptr(a), pb = Ptr(b);
        void** args = stackalloc void*[] { &po, &ph, &pr, &pa, &pb, &rows, &c, &eps };
        Kernel k = IsBf16(a) ? _k.AddRmsNormForwardBf16Stream
            : IsBf16(b) ? _k.AddRmsNormForwardBf16 : _k.AddRmsNormForward;
        Launch(k, "pppppiif", Cdiv(rows, 8), 256, 0, args);
        if (!half) Shadowed(output, ph, (long)rows * c);
        Done();
    }

    /// <inheritdoc/>
    public void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c)
    {
        Enter();
        NonNegative(rows);
        NonNegative(c);
        Need(dinp, (long)rows * c, nameof(dinp));
        Need(dout, (long)rows * c, nameof(dout));
        Need(output, (long)rows * c, nameof(output));
        Need(rstd, rows, nameof(rstd));
        if (rows == 0 || c == 0) return;
        ulong pdi = Ptr(dinp), ph = ShadowOf(dinp, (long)rows * c), pdo = Ptr(dout), po = Ptr(output), pr = Ptr(rstd);
        void** args = stackalloc void*[] { &pdi, &ph, &pdo, &po, &pr, &rows, &c };
        Launch(_k.RmsNormBackward, "pppppii", Cdiv(rows, 8), 256, 0, args);
        Shadowed(dinp, ph, (long)rows * c);
        Done();
    }

    /// <inheritdoc/>
    public void SwiGluForward(Buf act, Buf gateUp, int rows, int inter)
    {
        Enter();
        NonNegative(rows);
        NonNegative(inter);
        NeedBf16Ok(act, (long)rows * inter, nameof(act));
        NeedBf16Ok(gateUp, 2L * rows * inter, nameof(gateUp));
        if (IsBf16(act) != IsBf16(gateUp) && rows > 0 && inter > 0)
            throw new ArgumentException("act and gateUp: both bf16 (bf16 intermediates) or both float", nameof(act));
        if (rows == 0 || inter == 0) return;
        if (IsBf16(gateUp))
        {
            _shadow = default;                          // act itself is the down projection's bf16 operand
            ulong pab = Ptr(act), pgb = Ptr(gateUp);
            void** bargs = stackalloc void*[] { &pab, &pgb, &rows, &inter };
            if (SwiGluVectors(inter, pab, pgb))
                Launch(_k.SwiGluForwardBf16Vec, "ppii", SwiGluVectorBlocks(rows, inter), 256, 0, bargs);
            else
                Launch(_k.SwiGluForwardBf16, "ppii", (uint)rows, 256, 0, bargs);
            Done();
            return;
        }
        ulong pa = Ptr(act), ph = ShadowOf(act, (long)rows * inter), pg = Ptr(gateUp);
        void** args = stackalloc void*[] { &pa, &ph, &pg, &rows, &inter };
        Launch(_k.SwiGluForward, "pppii", (uint)rows, 256, 0, args);
        Shadowed(act, ph, (long)rows * inter);
        Done();
    }

    /// <inheritdoc/>
    public void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter)
    {
        Enter();
        NonNegative(rows);
        NonNegative(inter);
        NeedBf16Ok(dgateUp, 2L * rows * inter, nameof(dgateUp));
        NeedBf16Ok(dact, (long)rows * inter, nameof(dact));
        NeedBf16Ok(gateUp, 2L * rows * inter, nameof(gateUp));
        if (rows > 0 && inter > 0 && (IsBf16(dact) != IsBf16(gateUp) || (IsBf16(dgateUp) && !IsBf16(gateUp))))
            throw new ArgumentException("dact, gateUp (and dgateUp): all bf16 (bf16 intermediates), or float " +
                "(dgateUp may be float with bf16 inputs)", nameof(dact));
        if (rows == 0 || inter == 0) return;
        // A bf16 dgateUp is written in place of the fp32 one and its copy: it is the gate/up GEMM backward's operand.
        bool h = IsBf16(dgateUp);
        ulong pdg = h ? 0 : Ptr(dgateUp), ph = h ? Ptr(dgateUp) : ShadowOf(dgateUp, 2L * rows * inter);
        ulong pda = Ptr(dact), pg = Ptr(gateUp);
        void** args = stackalloc void*[] { &pdg, &ph, &pda, &pg, &rows, &inter };
        if (IsBf16(gateUp) && SwiGluVectors(inter, pdg, ph, pda, pg))
            Launch(_k.SwiGluBackwardBf16Vec, "ppppii", SwiGluVectorBlocks(rows, inter), 256, 0, args);
        else
            Launch(IsBf16(gateUp) ? _k.SwiGluBackwardBf16 : _k.SwiGluBackward, "ppppii", (uint)rows, 256, 0, args);
        if (h) _shadow = default;
        else Shadowed(dgateUp, ph, 2L * rows * inter);
        Done();
    }

    /// <summary>Whether the bf16 SwiGLU kernels' 8-wide version applies: I % 8 == 0 and every pointer (0 = absent)
    /// 16-byte aligned.</summary>
    private static bool SwiGluVectors(int inter, params ReadOnlySpan<ulong> pointers)
    {
        if (inter % 8 != 0) return false;
        foreach (ulong p in pointers)
            if (p % 16 != 0) return false;
        return true;
    }

    /// <summary>The 8-wide SwiGLU grid: one thread per 8 elements of the (rows, I) view, 256 per block.</summary>
    private static uint SwiGluVectorBlocks(int rows, int inter) => Cdiv((long)rows * (inter / 8), 256);

    /// <inheritdoc/>
    public void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs) =>
        Rope(_k.RopeForward, qkv, cos, sin, batch, t, nh, hs, nameof(qkv), nameof(RopeForward));

    /// <inheritdoc/>
    public void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs) =>
        Rope(_k.RopeBackward, dqkv, cos, sin, batch, t, nh, hs, nameof(dqkv), nameof(RopeBackward));

    private void Rope(Kernel kernel, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs, string name,
        string op)
    {
        Enter();
        NonNegative(batch);
        NonNegative(t);
        NonNegative(nh);
        NonNegative(hs);
        Need(qkv, 3L * batch * t * nh * hs, name);
        Need(cos, (long)t * hs, nameof(cos));
        Need(sin, (long)t * hs, nameof(sin));
        long rows = (long)batch * t;
        if (rows == 0 || (long)nh * hs == 0) return;
        ulong pq = Ptr(qkv), pc = Ptr(cos), ps = Ptr(sin);
        void** args = stackalloc void*[] { &pq, &pc, &ps, &batch, &t, &nh, &hs };
        Launch(kernel, "pppiiii", checked((uint)rows), 256, 0, args);
        Done(op);
    }

    private CublasComputeType ComputeType =>
        Options.Tf32Matmul ? CublasComputeType.Compute32FFastTf32 : CublasComputeType.Compute32F;

    /// <summary>Column-major fp32 <c>C (m×n) = op(A) · op(B) + beta·C</c> on the backend's stream.</summary>
    private void Gemm(CublasOperation opA, CublasOperation opB, int m, int n, int k, ulong a, int lda, ulong b,
        int ldb, float beta, ulong c, int ldc)
    {
        float alpha = 1f;
        CudaCheck.Cublas(Cublas.cublasGemmEx(_cublas.Raw, opA, opB, m, n, k, &alpha, a, CudaDataType.R32F, lda, b,
            CudaDataType.R32F, ldb, &beta, c, CudaDataType.R32F, ldc, ComputeType, Cublas.GemmDefault));
        Launches++;
    }

    private static void MatmulDims(int m, int k, int n)
    {
        NonNegative(m);
        NonNegative(k);
        NonNegative(n);
    }

    private static void HeadDims(int batch, int t, int p, int c, int v)
    {
        NonNegative(batch);
        NonNegative(t);
        NonNegative(p);
        NonNegative(c);
        NonNegative(v);
        if (p > t) throw new ArgumentOutOfRangeException(nameof(p), $"prefix {p} is longer than the sequence {t}");
    }
}
