using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// One planned cuBLASLt matmul with bf16 inputs and fp32 accumulation:
/// <c>D (m×n) = alpha · op(A) · op(B) + beta · D</c>, column-major like all of cuBLAS, D in fp32 or bf16.
/// Descriptors and the algorithm (first heuristic result) are chosen once at construction; <see cref="Execute"/>
/// does not allocate. A and B must be 256-byte aligned; C = D may be less (<c>alignD</c>: the algorithm is chosen
/// for that alignment, and <see cref="Execute"/> refuses a D pointer that has less).
/// </summary>
/// <remarks>
/// Our buffers are row-major. Row-major <c>Y (M, N) = X (M, K) · Wᵀ</c> with <c>W (N, K)</c> is the column-major
/// product <c>Yᵀ = W · Xᵀ</c>: plan it with m = N, n = M, k = K, <c>transA = true</c> (A = W) and
/// <c>transB = false</c> (B = X).
/// </remarks>
internal sealed unsafe class CublasLtMatmul : IDisposable
{
    private readonly CublasLtHandle _handle;
    private readonly CublasLtDescriptor _desc;
    private readonly CublasLtDescriptor _a;
    private readonly CublasLtDescriptor _b;
    private readonly CublasLtDescriptor _d;
    private CublasLtMatmulAlgo _algo;

    /// <summary>Plans the matmul; throws <see cref="CudaException"/> when cuBLASLt has no algorithm for it.</summary>
    public CublasLtMatmul(CublasLtHandle handle, int m, int n, int k, bool transA, bool transB,
        CudaDataType output, ulong maxWorkspaceBytes, uint alignD = 256)
    {
        if (m <= 0 || n <= 0 || k <= 0)
            throw new ArgumentException($"matmul sizes must be positive: m={m} n={n} k={k}");
        if (alignD is 0 or > 256 || (alignD & (alignD - 1)) != 0)
            throw new ArgumentException($"alignD must be a power of two up to 256, got {alignD}");
        if (output is not (CudaDataType.R32F or CudaDataType.R16BF))
            throw new ArgumentException($"matmul output must be fp32 or bf16, got {output}");
        (M, N, K, Output, AlignD) = (m, n, k, output, alignD);
        _handle = handle;
        _desc = CublasLtDescriptor.MatmulDesc(CublasComputeType.Compute32F, CudaDataType.R32F);
        _desc.Set(CublasLtMatmulDescAttribute.TransA, (int)(transA ? CublasOperation.T : CublasOperation.N));
        _desc.Set(CublasLtMatmulDescAttribute.TransB, (int)(transB ? CublasOperation.T : CublasOperation.N));
        _a = transA ? Layout(CudaDataType.R16BF, k, m) : Layout(CudaDataType.R16BF, m, k);
        _b = transB ? Layout(CudaDataType.R16BF, n, k) : Layout(CudaDataType.R16BF, k, n);
        _d = Layout(output, m, n);
        WorkspaceBytes = ChooseAlgorithm(maxWorkspaceBytes);
    }

    /// <summary>Rows of D.</summary>
    public int M { get; }

    /// <summary>Columns of D.</summary>
    public int N { get; }

    /// <summary>The reduction length.</summary>
    public int K { get; }

    /// <summary>The element type of D.</summary>
    public CudaDataType Output { get; }

    /// <summary>The least alignment in bytes of D (and C) the algorithm was chosen for.</summary>
    public uint AlignD { get; }

    /// <summary>The workspace the chosen algorithm needs (pass at least this much to <see cref="Execute"/>).</summary>
    public ulong WorkspaceBytes { get; }

    /// <summary>Queues the matmul on <paramref name="stream"/> (<paramref name="beta"/> 0 overwrites D).</summary>
    public void Execute(CudaStream stream, ulong a, ulong b, ulong d, float alpha, float beta, ulong workspace,
        ulong workspaceBytes)
    {
        if (workspaceBytes < WorkspaceBytes)
            throw new ArgumentException($"workspace of {workspaceBytes} bytes; the algorithm needs {WorkspaceBytes}");
        if (a % 256 != 0 || b % 256 != 0 || d % AlignD != 0)
            throw new ArgumentException($"matmul operands: A and B need 256-byte alignment, D {AlignD} " +
                $"(A 0x{a:x}, B 0x{b:x}, D 0x{d:x})");
        fixed (CublasLtMatmulAlgo* algo = &_algo)
        {
            CudaCheck.Cublas(CublasLt.cublasLtMatmul(_handle.Raw, _desc.Raw, &alpha, a, _a.Raw, b, _b.Raw, &beta,
                d, _d.Raw, d, _d.Raw, algo, workspace, (nuint)workspaceBytes, stream.Raw));
        }
    }

    /// <summary>Destroys the descriptors (the handle belongs to the caller).</summary>
    public void Dispose()
    {
        _d.Dispose();
        _b.Dispose();
        _a.Dispose();
        _desc.Dispose();
    }

    private static CublasLtDescriptor Layout(CudaDataType type, int rows, int cols) =>
        CublasLtDescriptor.MatrixLayout(type, (ulong)rows, (ulong)cols, rows);

    private ulong ChooseAlgorithm(ulong maxWorkspaceBytes)
    {
        using CublasLtDescriptor preference = CublasLtDescriptor.Preference();
        preference.Set(CublasLtMatmulPreferenceAttribute.MaxWorkspaceBytes, maxWorkspaceBytes);
        preference.Set(CublasLtMatmulPreferenceAttribute.MinAlignmentCBytes, AlignD);
        preference.Set(CublasLtMatmulPreferenceAttribute.MinAlignmentDBytes, AlignD);
        CublasLtMatmulHeuristicResult result;
        int found;
        CudaCheck.Cublas(CublasLt.cublasLtMatmulAlgoGetHeuristic(_handle.Raw, _desc.Raw, _a.Raw, _b.Raw, _d.Raw,
            _d.Raw, preference.Raw, 1, &result, &found));
        if (found == 0)
        {
            throw new CudaException(CudaErrorKind.Cublas, "cublasLtMatmulAlgoGetHeuristic",
                (int)CublasStatus.NotSupported, CudaErrorText.CublasName(CublasStatus.NotSupported),
                "no algorithm found", detail: $"bf16 matmul m={M} n={N} k={K} -> {Output}, " +
                $"D aligned to {AlignD} bytes, workspace <= {maxWorkspaceBytes} bytes");
        }
        _algo = result.Algo;
        return result.WorkspaceSize;
    }
}
