using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// One planned cuBLASLt matmul with bf16 inputs and fp32 accumulation:
/// <c>D (m×n) = alpha · op(A) · op(B) + beta · D</c>, column-major like all of cuBLAS, D in fp32 or bf16.
/// Descriptors and the heuristic's candidate algorithms (up to <see cref="MaxCandidates"/>, best guess first) are
/// made once at construction; the first candidate runs until <see cref="Choose"/> picks another (the backend times
/// them: <see cref="CudaBackendOptions.TuneGemms"/>); <see cref="Execute"/> does not allocate. A and B must be
/// 256-byte aligned; C = D may be less (<c>alignD</c>: the algorithm is chosen for that alignment, and
/// <see cref="Execute"/> refuses a D pointer that has less).
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
    private readonly CublasLtMatmulAlgo[] _candidates;
    private readonly ulong[] _candidateWorkspace;

    /// <summary>How many algorithms the heuristic is asked for.</summary>
    public const int MaxCandidates = 8;

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
        (_candidates, _candidateWorkspace) = Heuristic(maxWorkspaceBytes);
    }

    /// <summary>The heuristic's algorithms for this problem (at least 1), in its order.</summary>
    public int Candidates => _candidates.Length;

    /// <summary>The candidate <see cref="Execute"/> runs (0: the heuristic's first).</summary>
    public int Chosen { get; private set; }

    /// <summary>True once the backend has timed the candidates (or found nothing to time).</summary>
    public bool Tuned { get; set; }

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
    public ulong WorkspaceBytes => _candidateWorkspace[Chosen];

    /// <summary>Makes candidate <paramref name="index"/> the algorithm <see cref="Execute"/> runs.</summary>
    public void Choose(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _candidates.Length);
        Chosen = index;
    }

    /// <summary>Queues the matmul on <paramref name="stream"/> (<paramref name="beta"/> 0 overwrites D) with the chosen
    /// algorithm.</summary>
    public void Execute(CudaStream stream, ulong a, ulong b, ulong d, float alpha, float beta, ulong workspace,
        ulong workspaceBytes) => ExecuteCandidate(Chosen, stream, a, b, d, alpha, beta, workspace, workspaceBytes);

    /// <summary>Queues the matmul with candidate <paramref name="index"/> (timing the candidates).</summary>
    public void ExecuteCandidate(int index, CudaStream stream, ulong a, ulong b, ulong d, float alpha, float beta,
        ulong workspace, ulong workspaceBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _candidates.Length);
        if (workspaceBytes < _candidateWorkspace[index])
        {
            throw new ArgumentException(
                $"workspace of {workspaceBytes} bytes; the algorithm needs {_candidateWorkspace[index]}");
        }
        if (a % 256 != 0 || b % 256 != 0 || d % AlignD != 0)
            throw new ArgumentException($"matmul operands: A and B need 256-byte alignment, D {AlignD} " +
                $"(A 0x{a:x}, B 0x{b:x}, D 0x{d:x})");
        fixed (CublasLtMatmulAlgo* algo = &_candidates[index])
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

    /// <summary>The heuristic's algorithms that it reports as usable, and the workspace each needs.</summary>
    private (CublasLtMatmulAlgo[], ulong[]) Heuristic(ulong maxWorkspaceBytes)
    {
        using CublasLtDescriptor preference = CublasLtDescriptor.Preference();
        preference.Set(CublasLtMatmulPreferenceAttribute.MaxWorkspaceBytes, maxWorkspaceBytes);
        preference.Set(CublasLtMatmulPreferenceAttribute.MinAlignmentCBytes, AlignD);
        preference.Set(CublasLtMatmulPreferenceAttribute.MinAlignmentDBytes, AlignD);
        CublasLtMatmulHeuristicResult* results = stackalloc CublasLtMatmulHeuristicResult[MaxCandidates];
        int found;
        CudaCheck.Cublas(CublasLt.cublasLtMatmulAlgoGetHeuristic(_handle.Raw, _desc.Raw, _a.Raw, _b.Raw, _d.Raw,
            _d.Raw, preference.Raw, MaxCandidates, results, &found));
        var algos = new List<CublasLtMatmulAlgo>();
        var workspace = new List<ulong>();
        for (int i = 0; i < Math.Min(found, MaxCandidates); i++)
        {
            if (results[i].State != CublasStatus.Success || results[i].WorkspaceSize > maxWorkspaceBytes) continue;
            algos.Add(results[i].Algo);
            workspace.Add(results[i].WorkspaceSize);
        }
        if (algos.Count == 0)
        {
            throw new CudaException(CudaErrorKind.Cublas, "cublasLtMatmulAlgoGetHeuristic",
                (int)CublasStatus.NotSupported, CudaErrorText.CublasName(CublasStatus.NotSupported),
                "no algorithm found", detail: $"bf16 matmul m={M} n={N} k={K} -> {Output}, " +
                $"D aligned to {AlignD} bytes, workspace <= {maxWorkspaceBytes} bytes");
        }
        return ([.. algos], [.. workspace]);
    }
}
