using System.Runtime.CompilerServices;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>Host-side validation (the CPU backend's checks and messages) and launch-geometry helpers.</summary>
public sealed partial class CudaBackend
{
    private const int MaxGridYZ = 65535;

    /// <summary>The device pointer of a view (0 for an empty view, the kernels' null).</summary>
    private static ulong Ptr(Buf b) => b.IsEmpty ? 0UL : (ulong)b.Address;

    /// <summary>Throws unless <paramref name="b"/> holds 4-byte floats.</summary>
    private static Buf Floats(Buf b)
    {
        if (!b.IsEmpty && b.ElemSize != sizeof(float))
            throw new ArgumentException($"expected a float buffer, got {b.ElemSize}-byte elements");
        return b;
    }

    /// <summary>Throws unless <paramref name="b"/> holds int32 values.</summary>
    private static Buf IntBuf(Buf b)
    {
        if (b.ElemSize != sizeof(int)) throw new ArgumentException($"expected an int32 buffer, got {b.ElemSize}-byte elements");
        return b;
    }

    /// <summary>CpuOps' length check: a float buffer of exactly <paramref name="expected"/> elements.</summary>
    private static void Need(Buf b, long expected, string name)
    {
        Floats(b);
        if (b.Length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {b.Length}", name);
    }

    /// <summary>
    /// As <see cref="Need"/>, also accepting bf16 elements when the backend has bf16 intermediates (the operands
    /// <see cref="IHrmBackend.Bf16Intermediates"/> names).
    /// </summary>
    private void NeedBf16Ok(Buf b, long expected, string name)
    {
        if (!IsBf16(b))
        {
            Need(b, expected, name);
            return;
        }
        if (!Bf16Intermediates)
            throw new ArgumentException($"{name}: a bf16 buffer needs bf16 intermediates " +
                "(CudaBackendOptions.Bf16Matmul and Bf16Intermediates)", name);
        if (b.Length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {b.Length}", name);
    }

    /// <summary>True for a non-empty view of 2-byte (bf16) elements.</summary>
    private static bool IsBf16(Buf b) => !b.IsEmpty && b.ElemSize == sizeof(ushort);

    /// <summary>As <see cref="Need"/> for an int32 buffer.</summary>
    private static void NeedInts(Buf b, long expected, string name)
    {
        IntBuf(b);
        if (b.Length != expected)
            throw new ArgumentException($"{name}: expected {expected} elements, got {b.Length}", name);
    }

    private static void NonNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
        => ArgumentOutOfRangeException.ThrowIfNegative(value, name);

    /// <summary>A grid y or z extent must be at most 65535.</summary>
    private static void GridYZ(long extent, string what)
    {
        if (extent > MaxGridYZ)
        {
            throw new ArgumentException($"{what} = {extent} exceeds the CUDA grid limit of {MaxGridYZ} " +
                "(y and z grid dimensions)");
        }
    }

    private static uint Cdiv(long a, long b) => checked((uint)((a + b - 1) / b));

    /// <summary>g1(n) of the kernels README: max(1, min(cdiv(n, 256), 65535)) for grid-stride kernels.</summary>
    private static uint G1(long n) => (uint)Math.Max(1, Math.Min((n + 255) / 256, 65535));

    /// <summary>
    /// Checks that the int32 values of <paramref name="ids"/> (first <paramref name="count"/>) lie in [0, bound)
    /// without a copy when an upload recorded their range; otherwise (or when the recorded range is too wide) the
    /// values are downloaded and the first bad one reported with CpuOps' message.
    /// </summary>
    private void CheckIntRange(Buf ids, long count, int bound, string what, string paramName)
    {
        if (count == 0) return;
        if (_ints.TryGet(ids.Address, count, out int min, out int max) && min >= 0 && max < bound) return;
        int[] host = new int[count];
        DownloadInts(ids.Slice(0, count), host);
        for (int i = 0; i < host.Length; i++)
        {
            if ((uint)host[i] >= (uint)bound)
            {
                throw new ArgumentOutOfRangeException(paramName,
                    what == "token"
                        ? $"token {host[i]} at flat index {i} is outside [0, {bound})"
                        : $"puzzle identifier {host[i]} at row {i} is outside [0, {bound})");
            }
        }
        _ints.Record(ids.Address, count, host.Length == 0 ? 0 : host.Min(), host.Length == 0 ? 0 : host.Max());
    }
}
