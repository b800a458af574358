using Hrm.Runtime.Backends.Reference;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>AdamATan2 over the dense parameters and SignSGD over puzzle rows (adam_atan2.cu, signsgd.cu).</summary>
public sealed unsafe partial class CudaBackend
{
    /// <inheritdoc/>
    public void AdamATan2Step(Buf param, Buf grad, Buf m, Buf v, double lr, double beta1, double beta2,
        double weightDecay, int stepNumber, Buf skip = default)
    {
        Enter();
        Floats(param);
        SkipFlag(skip);
        Need(grad, param.Length, nameof(grad));
        Need(m, param.Length, nameof(m));
        Need(v, param.Length, nameof(v));
        // The constants in double, rounded to float, exactly as the CPU backend (AdamATan2Constants.Create).
        AdamATan2Constants k = AdamATan2Constants.Create(lr, beta1, beta2, weightDecay, stepNumber);
        float stepSize = (float)k.StepSize, wdAlpha = (float)k.WdAlpha, bc2Sqrt = (float)k.BiasCorrection2Sqrt;
        float mb1 = (float)k.OneMinusBeta1, mb2 = (float)k.OneMinusBeta2;
        long n = param.Length;
        if (n == 0) return;
        ulong pp = Ptr(param), pm = Ptr(m), pv = Ptr(v), shadow = 0, pg = Ptr(grad), ps = Ptr(skip);
        // Kernel order: param, m, v, shadow (null: no bf16 copy), grad, n, constants, skip (null: never).
        void** a = stackalloc void*[] { &pp, &pm, &pv, &shadow, &pg, &n, &stepSize, &wdAlpha, &bc2Sqrt, &mb1, &mb2, &ps };
        Launch(_k.AdamATan2, "ppppplfffffp", G1(n), 256, 0, a);
        Done();
    }

    /// <inheritdoc/>
    public void SignSgdRows(Buf table, Buf rowGrads, Buf ids, int rows, int width, double lr, double weightDecay,
        Buf skip = default)
    {
        Enter();
        SkipFlag(skip);
        NonNegative(rows);
        NonNegative(width);
        IntBuf(ids);
        Floats(table);
        Floats(rowGrads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, ids.Length);
        if ((long)rows * width > rowGrads.Length)
        {
            throw new ArgumentException(
                $"rowGrads: expected at least {(long)rows * width} elements, got {rowGrads.Length}", nameof(rowGrads));
        }
        int tableRows = width == 0 ? 0 : checked((int)(table.Length / width));
        Need(table, (long)tableRows * width, nameof(table));
        CheckIntRange(ids, rows, tableRows, "puzzle identifier", nameof(ids));
        if (rows == 0 || width == 0) return;
        uint columnBlocks = Cdiv(width, 256);
        GridYZ(columnBlocks, "ceil(width / 256) (SignSGD grid y)");
        float decay = (float)(1.0 - lr * weightDecay), negLr = (float)-lr;
        ulong pt = Ptr(table), pg = Ptr(rowGrads), pi = Ptr(ids), ps = Ptr(skip);
        void** a = stackalloc void*[] { &pt, &pg, &pi, &rows, &width, &tableRows, &decay, &negLr, &ps };
        Launch(_k.SignSgdRows, "pppiiiffp", new Dim3((uint)rows, columnBlocks), 256, 0, a);
        Done();
    }

    /// <summary>An optional skip flag: empty, or exactly one int of this backend's memory.</summary>
    private static void SkipFlag(Buf skip)
    {
        if (!skip.IsEmpty) NeedInts(skip, 1, nameof(skip));
    }
}
