using Hrm.Runtime.Threading;
using static Hrm.Runtime.Backends.Cpu.CpuOpsSupport;

namespace Hrm.Runtime.Backends.Cpu;

/// <summary>
/// fp32 CPU kernels of the runtime: SIMD (Vector512, else Vector256 with FMA, else Vector128; scalar loops where even
/// 128-bit vectors are not accelerated), parallel on a
/// <see cref="WorkerPool"/>, allocation-free after the first call and deterministic for a given input
/// (bitwise identical across calls and thread counts unless a kernel's documentation says otherwise).
/// </summary>
public static unsafe partial class CpuOps
{
    /// <summary>
    /// out (M,N) = inp (M,K) · weight (N,K)ᵀ (PyTorch Linear layout: both operands contiguous along K).
    /// Register-blocked SIMD GEMM; results are bitwise identical for any thread count.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void MatmulForward(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight,
        int m, int k, int n, WorkerPool pool) => MatmulForwardKept(output, inp, weight, m, k, n, pool, null);

    /// <summary>
    /// <see cref="MatmulForward"/>, reading (or first filling) the weight's kept panels when the sizes take the few-rows path.
    /// </summary>
    internal static void MatmulForwardKept(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight,
        int m, int k, int n, WorkerPool pool, PackedPanels? packed)
    {
        ArgumentNullException.ThrowIfNull(pool);
        MatmulCheckDims(m, k, n);
        MatmulCheckLength(output.Length, (long)m * n, nameof(output));
        MatmulCheckLength(inp.Length, (long)m * k, nameof(inp));
        MatmulCheckLength(weight.Length, (long)n * k, nameof(weight));
        fixed (float* o = output)
        fixed (float* x = inp)
        fixed (float* w = weight)
        {
            Gemm.Forward(o, x, w, m, k, n, pool, Gemm.Best, packed);
        }
    }

    /// <summary>
    /// qkv (B·T,3C) = inp (B·T,K) · weight (3C,K)ᵀ, then Q and K rotated (<see cref="RopeForward"/>; C = nh·hs), bit
    /// for bit those two. In the general GEMM each tile rotates the heads of the block it has just computed, while it
    /// is in its core's cache, instead of a second pass over qkv.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void MatmulRopeForward(Span<float> qkv, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int batch, int t, int k, int nh, int hs, WorkerPool pool) =>
        MatmulRopeForwardKept(qkv, inp, weight, cos, sin, batch, t, k, nh, hs, pool, null);

    /// <summary><see cref="MatmulRopeForward"/>, reading (or first filling) the weight's kept panels.</summary>
    internal static void MatmulRopeForwardKept(Span<float> qkv, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int batch, int t, int k, int nh, int hs, WorkerPool pool,
        PackedPanels? packed)
    {
        ArgumentNullException.ThrowIfNull(pool);
        NonNegative(batch);
        NonNegative(t);
        NonNegative(nh);
        NonNegative(hs);
        long m = (long)batch * t, n = 3L * nh * hs;
        if (m > int.MaxValue || n > int.MaxValue) throw new ArgumentException("qkv: more than 2^31 rows or columns", nameof(qkv));
        MatmulCheckDims((int)m, k, (int)n);
        MatmulCheckLength(qkv.Length, m * n, nameof(qkv));
        MatmulCheckLength(inp.Length, m * k, nameof(inp));
        MatmulCheckLength(weight.Length, n * k, nameof(weight));
        Check(cos, (long)t * hs, nameof(cos));
        Check(sin, (long)t * hs, nameof(sin));
        if (m == 0 || n == 0) return;
        fixed (float* o = qkv)
        fixed (float* x = inp)
        fixed (float* w = weight)
        fixed (float* pc = cos)
        fixed (float* ps = sin)
        {
            Gemm.ForwardRope(o, x, w, (int)m, k, (int)n, pc, ps, t, hs, pool, Gemm.Best, packed);
        }
    }

    /// <summary>
    /// act (M,I) = SiLU(gate)·up with [gate | up] = inp (M,K) · weight (2I,K)ᵀ: <see cref="MatmulForward"/> then
    /// <see cref="SwiGluForward"/>, bit for bit. Fused (the SwiGLU applied to tiles of the product while they are in
    /// registers' reach) for few rows, or for K &lt;= 512: then <paramref name="gateUp"/> (M,2I) is written only with
    /// <paramref name="keepGateUp"/> (a recorded forward); otherwise it is scratch whose contents afterwards are
    /// unspecified.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void MatmulSwiGluForward(Span<float> act, Span<float> gateUp, ReadOnlySpan<float> inp,
        ReadOnlySpan<float> weight, int m, int k, int inter, WorkerPool pool, bool keepGateUp = false) =>
        MatmulSwiGluForwardKept(act, gateUp, inp, weight, m, k, inter, pool, null, keepGateUp);

    /// <summary>
    /// <see cref="MatmulSwiGluForward"/>, reading (or first filling) the weight's kept panels when fused.
    /// </summary>
    internal static void MatmulSwiGluForwardKept(Span<float> act, Span<float> gateUp, ReadOnlySpan<float> inp,
        ReadOnlySpan<float> weight, int m, int k, int inter, WorkerPool pool, PackedPanels? packed,
        bool keepGateUp = false)
    {
        ArgumentNullException.ThrowIfNull(pool);
        MatmulCheckDims(m, k, 2 * inter);
        MatmulCheckLength(act.Length, (long)m * inter, nameof(act));
        MatmulCheckLength(gateUp.Length, 2L * m * inter, nameof(gateUp));
        MatmulCheckLength(inp.Length, (long)m * k, nameof(inp));
        MatmulCheckLength(weight.Length, 2L * inter * k, nameof(weight));
        fixed (float* a = act)
        fixed (float* g = gateUp)
        fixed (float* x = inp)
        fixed (float* w = weight)
        {
            if (Gemm.TryForwardSwiGlu(a, x, w, m, k, inter, pool, Gemm.Best, packed, keepGateUp ? g : null)) return;
        }
        MatmulForward(gateUp, inp, weight, m, k, 2 * inter, pool);
        SwiGluForward(act, gateUp, m, inter, pool);
    }

    /// <summary>
    /// dinp (M,K) = dout (M,N) · weight (N,K), written (=), or with <paramref name="accumulate"/> added (+=: the
    /// products summed onto dinp in order, as dweight's), skipped when <paramref name="dinp"/> is empty;
    /// dweight (N,K) += doutᵀ · inp (accumulated). Results are bitwise identical for any thread count.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match its shape.</exception>
    public static void MatmulBackward(Span<float> dinp, Span<float> dweight, ReadOnlySpan<float> dout,
        ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, int m, int k, int n, WorkerPool pool,
        bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(pool);
        MatmulCheckDims(m, k, n);
        MatmulCheckLength(dout.Length, (long)m * n, nameof(dout));
        MatmulCheckLength(inp.Length, (long)m * k, nameof(inp));
        MatmulCheckLength(weight.Length, (long)n * k, nameof(weight));
        MatmulCheckLength(dweight.Length, (long)n * k, nameof(dweight));
        bool skipDinp = dinp.IsEmpty;
        if (!skipDinp) MatmulCheckLength(dinp.Length, (long)m * k, nameof(dinp));
        fixed (float* di = dinp)
        fixed (float* dw = dweight)
        fixed (float* g = dout)
        fixed (float* x = inp)
        fixed (float* w = weight)
        {
            Gemm.Backward(skipDinp ? null : di, dw, g, x, w, m, k, n, pool, Gemm.Best, accumulate);
        }
    }

    private static void MatmulCheckDims(int m, int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
    }

    private static void MatmulCheckLength(int actual, long expected, string name)
    {
        if (actual != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {actual}", name);
    }
}
