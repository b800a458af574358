using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Backends;

/// <summary>
/// What the model drives: memory and one method per op family, forward and backward. Implementations:
/// Reference (scalar, double elements: runs the whole model in double for finite-difference checks) and
/// Cpu (SIMD, threads, float). The model (HrmModel) is written once against this interface and never branches on the backend. Shape letters: B batch, T positions with prefix,
/// L without, P prefix, Pd puzzle-row width, C hidden, NH heads, HS head size, I SwiGLU width, V vocab.
/// Activation gradients are written (=); parameter gradients accumulate (+=).
/// </summary>
public interface IHrmBackend : IDisposable
{
    /// <summary>Short name: "reference", "cpu", "cuda".</summary>
    string Name { get; }

    /// <summary>Bytes per floating-point element in this backend's buffers.</summary>
    int ElementSize { get; }

    /// <summary>Total bytes allocated through this backend.</summary>
    long AllocatedBytes { get; }

    /// <summary>True when the backend implements <paramref name="op"/>.</summary>
    bool SupportsOp(HrmOp op);

    /// <summary>
    /// True when the model should rotate Q and K with <see cref="RopeAttentionForward"/> after a plain
    /// <see cref="MatmulForward"/>, false for <see cref="MatmulRopeForward"/> then <see cref="AttentionForward"/>: where
    /// the backend fuses RoPE better (into its attention or into its GEMM). Both orders compute the same.
    /// </summary>
    bool PrefersRopeInAttention { get; }

    /// <summary>
    /// True when the model should store in bf16 (2-byte <see cref="Buf"/> elements; <see cref="Memory.ActivationPlan.CarveBf16"/>)
    /// the intermediates that pass between a GEMM and one other op: the gate/up product (B·T, 2I), the SwiGLU output
    /// (B·T, I), the o_proj / down_proj products (B·T, C) that the residual add + RMSNorm reads, and in the backward
    /// the SwiGLU output's gradient (a GEMM's product) and the gate/up gradient (a GEMM's operand). For a backend whose
    /// GEMMs read bf16 operands and can write bf16 products (CUDA with bf16 GEMMs), as the reference's bf16 forward
    /// stores them. Those buffers then reach only <see cref="MatmulForward"/> (output, inp),
    /// <see cref="MatmulSwiGluForward"/>, <see cref="SwiGluForward"/>, <see cref="SwiGluBackward"/> (all three),
    /// <see cref="MatmulBackward"/> (inp, dout, dinp) and <see cref="AddRmsNormForward"/> (b); the q/k/v product and
    /// its gradient also <see cref="RopeAttentionForward"/> and <see cref="RopeAttentionBackward"/> where
    /// <see cref="Bf16QkvForward"/> and <see cref="Bf16QkvRecorded"/> hold. False on the CPU backends, which compute in
    /// fp32 (double on the Reference).
    /// </summary>
    bool Bf16Intermediates { get; }

    /// <summary>
    /// True when the model may store the q/k/v product of a forward that is not recorded in bf16 (the no-grad
    /// scratch's qkv, T positions, head size <paramref name="hs"/>): the backend's GEMM then writes it in bf16 and
    /// its <see cref="RopeAttentionForward"/> (with keepRotated false, the model's call there) reads it as it is.
    /// Asked once per Reserve, for rotary positions with <see cref="PrefersRopeInAttention"/>. CUDA: with bf16
    /// intermediates and bf16 attention (HS 64); false on the CPU backends.
    /// </summary>
    bool Bf16QkvForward(int t, int hs);

    /// <summary>
    /// True when, beyond <see cref="Bf16QkvForward"/>, the forwards that are not recorded may keep their attention
    /// output and their residual stream between blocks in bf16, as the reference's bf16 forward does:
    /// <see cref="RopeAttentionForward"/> (keepRotated false) then writes a bf16 output, <see cref="Add"/> (z +
    /// injection) and <see cref="AddRmsNormForward"/> write bf16 outputs and the latter reads a bf16 <c>a</c>, and
    /// <see cref="GatherRows"/> gathers bf16 rows. The carry and the recorded forward stay fp32. Asked once per
    /// Reserve where <see cref="Bf16QkvForward"/> holds. CUDA: <c>CudaBackendOptions.Bf16Stream</c>; false on the
    /// CPU backends.
    /// </summary>
    bool Bf16StreamForward(int t, int hs);

    /// <summary>
    /// True when, beyond <see cref="Bf16QkvForward"/>, the recorded forwards may store their q/k/v product in bf16 as
    /// well (the GEMM's bf16 product, never rotated in memory: the model's <see cref="RopeAttentionForward"/> then
    /// passes keepRotated false), and <see cref="RopeAttentionBackward"/> takes that qkv as it is (rotating Q and K
    /// again, as the forward did) and may write dqkv in bf16 (a bf16 buffer that then reaches only
    /// <see cref="MatmulBackward"/>, as dout). The reference's bf16 forward stores q/k/v and their gradient in bf16
    /// too. Asked once per Reserve where <see cref="Bf16QkvForward"/> holds. CUDA:
    /// <c>CudaBackendOptions.Bf16RecordedQkv</c> at T ≤ 128 (the one-block attention backward); false on the CPU
    /// backends.
    /// </summary>
    bool Bf16QkvRecorded(int t, int hs);

    /// <summary>
    /// Rows per chunk in which the model runs a block's ops after its attention (o_proj, the residual add + RMSNorm,
    /// the gate/up GEMM + SwiGLU, down_proj, the second add + RMSNorm: each row on its own) over B·T =
    /// <paramref name="rows"/> rows of T positions, head size <paramref name="hs"/>, in a recorded block (the backward
    /// reads its activations: every row stays in its place) or not (<paramref name="record"/>), so that each chunk's
    /// intermediates stay in the cache from the op that writes them to the op that reads them; 0 = all rows at once.
    /// Results are the unchunked ones up to the order of a GEMM's sums (bitwise where a backend's GEMM sums each
    /// element the same way for any row count). CPU backends: 0. CUDA: <c>CudaBackendOptions.BlockChunkRows</c> (off
    /// by default), for the blocks that are not recorded and keep a bf16 residual stream.
    /// </summary>
    int BlockChunkRows(int rows, int t, int hs, bool record);

    /// <summary>
    /// A whole module call that nobody differentiates, z ← blocks(z + inj), as one fused op where the backend has one
    /// for these shapes; false, having done nothing, where it has not (the model then runs the ops one by one). Same
    /// math as the model's ops: the add, then per layer the post-norm block of its four weights in
    /// <paramref name="weights"/> (Wqkv (3C, C), Wo (C, C), Wgate_up (2I, C), Wdown (C, I)), RoPE with
    /// <paramref name="cos"/>, <paramref name="sin"/> (T, HS) unless both are empty. z (B·T, C) float, in and out;
    /// inj (B·T, C), bf16 where <see cref="Bf16StreamForward"/> holds. CPU backends: always false. CUDA: a persistent
    /// kernel (<c>CudaBackendOptions.FusedModuleMaxRows</c>, off by default).
    /// </summary>
    bool TryFusedModuleForward(Buf z, Buf inj, ReadOnlySpan<Buf> weights, Buf cos, Buf sin, int batch, int t, int nh,
        int hs, int inter, float eps);

    /// <summary>A zeroed region of <paramref name="elements"/> floating-point elements.</summary>
    Buf Allocate(long elements, string name);

    /// <summary>A zeroed region of <paramref name="count"/> int32 elements.</summary>
    Buf AllocateInts(long count, string name);

    /// <summary>Frees a whole region returned by <see cref="Allocate"/> or <see cref="AllocateInts"/>.</summary>
    void Free(Buf region);

    /// <summary>
    /// Reserves, now, the scratch memory the ops need at <paramref name="shapes"/> and whatever a backend derives from
    /// the GEMM <paramref name="weights"/> (the model calls it from its Reserve), so that running the ops allocates
    /// nothing. Backends without such memory do nothing. Ops on larger shapes or other weights still work (the
    /// memory is then made on first use).
    /// </summary>
    void ReserveScratch(in ScratchShapes shapes, ReadOnlySpan<Buf> weights);

    /// <summary>Copies host floats into a buffer of the same length.</summary>
    void Upload(ReadOnlySpan<float> src, Buf dst);

    /// <summary>Copies a buffer into host floats of the same length.</summary>
    void Download(Buf src, Span<float> dst);

    /// <summary>Copies host int32 values into an int buffer.</summary>
    void UploadInts(ReadOnlySpan<int> src, Buf dst);

    /// <summary>Copies an int buffer to the host.</summary>
    void DownloadInts(Buf src, Span<int> dst);

    /// <summary>dst = value everywhere.</summary>
    void Fill(Buf dst, float value);

    /// <summary>dst = src (same length).</summary>
    void Copy(Buf dst, Buf src);

    /// <summary>dst = a + b elementwise (dst may alias a or b).</summary>
    void Add(Buf dst, Buf a, Buf b);

    /// <summary>Rows b of z (B,T,C) with halted[b] != 0 become init (C) at every position.</summary>
    void ResetCarry(Buf z, Buf init, Buf halted, int batch, int t, int c);

    /// <summary>dst (N,W) = table (R,W)[ids (N)].</summary>
    void GatherRows(Buf dst, Buf table, Buf ids, int n, int w);

    /// <summary>x (B,T,C) from tokens (B,L), puzzleRows (B,Pd), tokTable (V,C), posTable (T,C) or empty.</summary>
    void EmbeddingForward(Buf x, Buf tokens, Buf puzzleRows, Buf tokTable, Buf posTable,
        int batch, int l, int p, int pd, int c, int v, float scale);

    /// <summary>dTokTable (V,C) +=, dPuzzleRows (B,Pd) =, dPosTable (T,C) += (or empty) from dx (B,T,C).</summary>
    void EmbeddingBackward(Buf dTokTable, Buf dPuzzleRows, Buf dPosTable, Buf dx, Buf tokens,
        int batch, int l, int p, int pd, int c, int v, float scale);

    /// <summary>out (M,N) = inp (M,K) · weight (N,K)ᵀ.</summary>
    void MatmulForward(Buf output, Buf inp, Buf weight, int m, int k, int n);

    /// <summary>
    /// act (M,I) = SwiGLU(inp (M,K) · weight (2I,K)ᵀ): <see cref="MatmulForward"/> into gateUp (M,2I), then
    /// <see cref="SwiGluForward"/> (a backend may fuse them). With <paramref name="keepGateUp"/> gateUp holds the
    /// product afterwards (a recorded forward: the backward reads it); otherwise it is scratch whose contents
    /// afterwards are unspecified.
    /// </summary>
    void MatmulSwiGluForward(Buf act, Buf gateUp, Buf inp, Buf weight, int m, int k, int inter, bool keepGateUp = false);

    /// <summary>
    /// qkv (B·T,3C) = inp (B·T,K) · weight (3C,K)ᵀ with Q and K then rotated: <see cref="MatmulForward"/> then
    /// <see cref="RopeForward"/> (a backend may fuse them; C = nh·hs).
    /// </summary>
    void MatmulRopeForward(Buf qkv, Buf inp, Buf weight, Buf cos, Buf sin, int batch, int t, int k, int nh, int hs);

    /// <summary>
    /// Opens a scope (scopes nest) in which the buffers the ops read as weights do not change, so a backend may keep
    /// copies derived from them until the outermost <see cref="EndWeightReuse"/>. <c>HrmModel.Evaluate</c> opens one
    /// around its segments, a training <c>HrmModel.ActStep</c> around its two, and the solver one around its whole run
    /// (it owns the model); whoever writes parameters must do so outside any scope.
    /// </summary>
    void BeginWeightReuse();

    /// <summary>Closes the scope of <see cref="BeginWeightReuse"/>; after the outermost one nothing derived is reused.</summary>
    /// <exception cref="InvalidOperationException">No scope is open.</exception>
    void EndWeightReuse();

    /// <summary>
    /// Runs <paramref name="ops"/>, a fixed sequence of this backend's ops: every call with the same delegate instance
    /// queues the same ops with the same arguments on buffers that stay allocated, with no copy to or from the host
    /// and nothing on the host that depends on their results. A backend may record the sequence and replay the
    /// recording instead of calling <paramref name="ops"/> (CUDA: a graph, one launch instead of hundreds); host
    /// backends just call it. The delegate instance is the sequence's key: keep it and pass the same one each time.
    /// </summary>
    void RunRecorded(Action ops);

    /// <summary>dinp (M,K) = dout·weight (skipped when empty), or with <paramref name="accumulate"/> dinp +=
    /// dout·weight (fp32 dinp; the block backward's residual gradient adds: no separate Add); dweight (N,K) +=
    /// doutᵀ·inp.</summary>
    void MatmulBackward(Buf dinp, Buf dweight, Buf dout, Buf inp, Buf weight, int m, int k, int n,
        bool accumulate = false);

    /// <summary>Rotate-half RoPE in place on Q and K of qkv (B,T,3C); cos, sin (T,HS).</summary>
    void RopeForward(Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs);

    /// <summary>Transpose of RoPE in place on dqkv (B,T,3C).</summary>
    void RopeBackward(Buf dqkv, Buf cos, Buf sin, int batch, int t, int nh, int hs);

    /// <summary>out (B,T,C), lse (B,NH,T) from qkv (B,T,3C); non-causal, scale 1/sqrt(HS). A backend with
    /// <see cref="Bf16Intermediates"/> also reads a bf16 qkv where its bf16 attention applies (CUDA: HS 64).</summary>
    void AttentionForward(Buf output, Buf lse, Buf qkv, int batch, int t, int nh, int hs);

    /// <summary>
    /// <see cref="RopeForward"/> then <see cref="AttentionForward"/> in one call (the model's order; a backend may fuse
    /// them): with <paramref name="keepRotated"/> qkv holds the rotated Q and K afterwards, as the backward expects;
    /// without (a forward nobody differentiates) its contents afterwards are unspecified: a backend that rotates into
    /// its own scratch may leave qkv unrotated and save writing it back. A bf16 qkv (<see cref="Bf16QkvForward"/>,
    /// keepRotated false only) is read only: it stays unrotated, which is what <see cref="RopeAttentionBackward"/>
    /// takes where <see cref="Bf16QkvRecorded"/> holds.
    /// </summary>
    void RopeAttentionForward(Buf output, Buf lse, Buf qkv, Buf cos, Buf sin, int batch, int t, int nh, int hs,
        bool keepRotated = true);

    /// <summary>dqkv (B,T,3C) = from dout (B,T,C), qkv, out, lse.</summary>
    void AttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, int batch, int t, int nh, int hs);

    /// <summary>
    /// <see cref="AttentionBackward"/> then <see cref="RopeBackward"/> on dqkv in one call (the model's order; a backend
    /// may fuse them): the gradient with respect to the qkv before <see cref="RopeAttentionForward"/> rotated it. Where
    /// <see cref="Bf16QkvRecorded"/> holds, qkv may be the forward's bf16, unrotated qkv (the backend rotates it again)
    /// and dqkv a bf16 buffer (the gradient in bf16 only).
    /// </summary>
    void RopeAttentionBackward(Buf dqkv, Buf dout, Buf qkv, Buf output, Buf lse, Buf cos, Buf sin, int batch, int t,
        int nh, int hs);

    /// <summary>out (N,C) = RMSNorm(a + b), rstd (N).</summary>
    void AddRmsNormForward(Buf output, Buf rstd, Buf a, Buf b, int rows, int c, float eps);

    /// <summary>dinp (N,C) from dout, out, rstd.</summary>
    void RmsNormBackward(Buf dinp, Buf dout, Buf output, Buf rstd, int rows, int c);

    /// <summary>act (N,I) = SiLU(gate)·up from gateUp (N,2I).</summary>
    void SwiGluForward(Buf act, Buf gateUp, int rows, int inter);

    /// <summary>dgateUp (N,2I) from dact (N,I).</summary>
    void SwiGluBackward(Buf dgateUp, Buf dact, Buf gateUp, int rows, int inter);

    /// <summary>logits (B,L,V) = zH[:, P:] · W (V,C)ᵀ.</summary>
    void LmHeadForward(Buf logits, Buf zH, Buf weight, int batch, int t, int p, int c, int v);

    /// <summary>dzH (B,T,C) = (zero on the prefix) dlogits·W; dW (V,C) +=.</summary>
    void LmHeadBackward(Buf dzH, Buf dweight, Buf dlogits, Buf zH, Buf weight, int batch, int t, int p, int c, int v);

    /// <summary>q (B,2) = zH[:, 0] · W (2,C)ᵀ + bias (2).</summary>
    void QHeadForward(Buf q, Buf zH, Buf weight, Buf bias, int batch, int t, int c);

    /// <summary>dzH[:,0] +=, dW (2,C) +=, dbias (2) += from dq (B,2).</summary>
    void QHeadBackward(Buf dzH, Buf dweight, Buf dbias, Buf dq, Buf zH, Buf weight, int batch, int t, int c);

    /// <summary>
    /// The ACT loss head (spec 2.1, 2.2; <see cref="StablemaxCeMath"/>, native/kernels/stablemax_ce.cu), all
    /// arithmetic in double: per row b, rowLoss (B,3) double = [Σ_t CE_t/max(n_b, 1), BCE(q_halt, seq_correct_b),
    /// training ? BCE(q_continue, target_b) : 0] and rowStats (B,3) int = [n_b, correct_b, seq_correct_b]; dlogits
    /// (B,L,V) and dq (B,2) [d halt, d continue] = the gradients of total/globalBatch (each skipped when empty).
    /// logits (B,L,V); labels (B,L) int, −100 = ignore; q (B,2) [halt, continue]; target (B) Q-continue targets,
    /// read only when training (may be empty otherwise). rowLoss is an int32 region of 6·B elements, 8-byte aligned
    /// (<see cref="StablemaxCeRows.RowLossInts"/>), holding the B·3 doubles bit for bit. Host backends throw on a
    /// label neither −100 nor in [0, V); CUDA gives that row a NaN loss (check labels on the host first).
    /// </summary>
    void StablemaxCe(Buf dlogits, Buf dq, Buf rowLoss, Buf rowStats, Buf logits, Buf labels, Buf q, Buf target,
        int batch, int l, int v, LossType lossType, bool training, int globalBatch);

    /// <summary>
    /// One AdamATan2 step (adam-atan2 0.0.3, no epsilon) over a flat region: param, grad, m (first moment) and
    /// v (second moment) have the same length. With t = <paramref name="stepNumber"/> (1 for the first update):
    /// θ ← θ·(1 − lr·wd); m ← m + (1−β1)(g − m); v ← v + (1−β2)(g² − v);
    /// θ ← θ − (lr / (1 − β1^t))·atan2(m, √v / √(1 − β2^t)). The hyperparameters are doubles and the constants
    /// (bias corrections, 1 − lr·wd, 1 − β) are computed in double, as the reference computes them on the host;
    /// the per-element math runs in the backend's precision. Zero param, grad, m and v stay zero. When
    /// <paramref name="skip"/> (1 int, see <see cref="ActMetrics"/>) is given and holds a non-zero value when the op
    /// runs, nothing is written (a diverged step leaves the last good state; the host need not look first).
    /// </summary>
    void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2,
        double weightDecay, int stepNumber, Buf skip = default);

    /// <summary>
    /// SignSGD with decoupled weight decay on the rows of <paramref name="table"/> (R, W = <paramref name="width"/>)
    /// named by <paramref name="ids"/> (int; the first <paramref name="rows"/> are used, as are the first rows·W
    /// elements of <paramref name="rowGrads"/>): gradient rows with the same id are summed (in row order), then each
    /// touched table row becomes w·(1 − lr·wd) − lr·sign(Σg) (sign(0) = 0). Rows not named are left untouched (no
    /// decay). Ids outside [0, R) throw. A non-zero <paramref name="skip"/> (1 int, optional) makes it write nothing,
    /// as in <see cref="AdamATan2Step"/>.
    /// </summary>
    void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default);

    /// <summary>
    /// dst (rows, width) int: the rows r with mask (rows) int ≠ 0 become the rows of src (rows, width) int; the others
    /// are left (<see cref="ActMath.SelectRows"/>: halted rows of the ACT carry take the new batch's data).
    /// </summary>
    void SelectRows(Buf dst, Buf src, Buf mask, int rows, int width);

    /// <summary>
    /// The ACT halting step after a segment (<see cref="ActMath.Halt"/>): steps (B) int and halted (B) int (on entry
    /// the rows reset at this call) updated in place from q (B,2) and, under a training rule, minSteps (B) int, the
    /// exploration minimum of each row (0 = none; may be empty under <see cref="ActHaltRule.MaxSteps"/>).
    /// </summary>
    void ActHalt(Buf halted, Buf steps, Buf q, Buf minSteps, int batch, int maxSteps, ActHaltRule rule);

    /// <summary>target (B) = the Q-continue bootstrap targets from qNext (B,2) and steps (B) int (<see cref="ActMath.Target"/>).</summary>
    void ActTarget(Buf target, Buf qNext, Buf steps, int batch, int maxSteps);

    /// <summary>
    /// Adds one training step to the metric sums where they live (<see cref="ActMath.Metrics"/>): sums is an int
    /// region of <see cref="ActMetricSums.Ints"/>(slots) elements, 8-byte aligned, holding doubles; slot &lt; slots
    /// receives the step's total; skip (1 int) becomes 1 when that total is not finite. halted, steps (B) int after
    /// the step's <see cref="ActHalt"/>; q (B,2); rowLoss, rowStats as <see cref="StablemaxCe"/> wrote them. Host
    /// backends add in row order (bit for bit the host metrics); CUDA reduces in a fixed order (deterministic).
    /// </summary>
    void ActMetrics(Buf sums, Buf skip, Buf halted, Buf steps, Buf q, Buf rowLoss, Buf rowStats, int batch, int slot);
}
