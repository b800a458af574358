using System.Runtime.CompilerServices;
using Hrm.Runtime.Threading;

namespace Hrm.Runtime.Backends.Cpu;

// Gemm.cs's scalar fallback.
internal static unsafe partial class Gemm
{
    private enum ScalarMode
    {
        Forward,
        Dinp,
        DinpAdd,
        Dweight,
    }

    /// <summary>Scalar fallback: tasks own contiguous ranges of output rows.</summary>
    private readonly struct ScalarJob : IParallelJob
    {
        private readonly ScalarMode _mode;
        private readonly float* _c, _x, _y;
        private readonly int _m, _k, _n, _rows;

        public ScalarJob(ScalarMode mode, float* c, float* x, float* y, int m, int k, int n, int rows, int threads)
        {
            _mode = mode;
            _c = c;
            _x = x;
            _y = y;
            _m = m;
            _k = k;
            _n = n;
            _rows = rows;
            Tasks = Math.Min(rows, 4 * threads);
        }

        public int Tasks { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int index)
        {
            int r0 = (int)((long)index * _rows / Tasks), r1 = (int)((long)(index + 1) * _rows / Tasks);
            int m = _m, k = _k, n = _n;
            for (int r = r0; r < r1; r++)
            {
                switch (_mode)
                {
                    case ScalarMode.Forward: // c = out, x = inp, y = weight
                        for (int j = 0; j < n; j++)
                        {
                            float* xr = _x + (nint)r * k, wr = _y + (nint)j * k;
                            float s = 0f;
                            for (int t = 0; t < k; t++) s += xr[t] * wr[t];
                            _c[(nint)r * n + j] = s;
                        }
                        break;
                    case ScalarMode.Dinp or ScalarMode.DinpAdd: // c = dinp, x = dout, y = weight
                    {
                        float* dr = _c + (nint)r * k;
                        if (_mode == ScalarMode.Dinp)
                        {
                            for (int t = 0; t < k; t++) dr[t] = 0f;
                        }
                        for (int j = 0; j < n; j++)
                        {
                            float g = _x[(nint)r * n + j];
                            float* wr = _y + (nint)j * k;
                            for (int t = 0; t < k; t++) dr[t] += g * wr[t];
                        }
                        break;
                    }
                    default: // Dweight: c = dweight, x = dout, y = inp; row r of dweight
                    {
                        float* dr = _c + (nint)r * k;
                        for (int i = 0; i < m; i++)
                        {
                            float g = _x[(nint)i * n + r];
                            float* xr = _y + (nint)i * k;
                            for (int t = 0; t < k; t++) dr[t] += g * xr[t];
                        }
                        break;
                    }
                }
            }
        }
    }
}
