using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>CudaBackend vs CpuBackend: GEMMs, RMSNorm, SwiGLU, RoPE, lm_head and Q head, forward and backward (GPU only).</summary>
[Collection("Cuda")]
public sealed class CudaBackendDenseTests(CudaFixture cuda, ITestOutputHelper output)
{
    private const double Fp32 = 1e-5;

    private BackendPair Pair() => new(cuda.BackendOrSkip(), output);

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512, 1536)] // qkv projection, Sudoku B=2
    [InlineData(164, 1536, 512)] // down projection
    [InlineData(37, 19, 23)]     // odd
    [InlineData(1, 1, 1)]
    public void Matmul_forward_and_backward_match_the_cpu(int m, int k, int n)
    {
        using BackendPair p = Pair();
        Twin x = p.Floats(1, (long)m * k), w = p.Floats(2, (long)n * k, 0.1f), y = p.Zeros((long)m * n);
        p.Cpu.MatmulForward(y.C, x.C, w.C, m, k, n);
        p.Gpu.MatmulForward(y.G, x.G, w.G, m, k, n);
        p.Close(y, Fp32, "out");
        Twin dy = p.Floats(3, (long)m * n), dx = p.Zeros((long)m * k), dw = p.Floats(4, (long)n * k);
        p.Cpu.MatmulBackward(dx.C, dw.C, dy.C, x.C, w.C, m, k, n);
        p.Gpu.MatmulBackward(dx.G, dw.G, dy.G, x.G, w.G, m, k, n);
        p.Close(dx, Fp32, "dinp");
        p.Close(dw, Fp32, "dweight (+=)");
        p.Cpu.MatmulBackward(Buf.Empty, dw.C, dy.C, x.C, w.C, m, k, n);
        p.Gpu.MatmulBackward(Buf.Empty, dw.G, dy.G, x.G, w.G, m, k, n);
        p.Close(dw, Fp32, "dweight, dinp skipped");
        Twin acc = p.Floats(5, (long)m * k); // dinp += the product (beta 1 on the GPU)
        p.Cpu.MatmulBackward(acc.C, dw.C, dy.C, x.C, w.C, m, k, n, accumulate: true);
        p.Gpu.MatmulBackward(acc.G, dw.G, dy.G, x.G, w.G, m, k, n, accumulate: true);
        p.Close(acc, Fp32, "dinp (+=)");
        p.Close(dw, Fp32, "dweight (+=), dinp accumulated");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512)]
    [InlineData(7, 33)]
    [InlineData(1, 64)]
    [InlineData(5, 1000)] // C > 512: the two-pass row (C <= 512 is held in registers)
    public void Add_rmsnorm_forward_and_backward_match_the_cpu(int rows, int c)
    {
        using BackendPair p = Pair();
        Twin a = p.Floats(1, (long)rows * c), b = p.Floats(2, (long)rows * c), o = p.Zeros((long)rows * c);
        Twin rstd = p.Zeros(rows);
        p.Cpu.AddRmsNormForward(o.C, rstd.C, a.C, b.C, rows, c, 1e-5f);
        p.Gpu.AddRmsNormForward(o.G, rstd.G, a.G, b.G, rows, c, 1e-5f);
        p.Close(o, Fp32, "out");
        p.Close(rstd, Fp32, "rstd");
        Twin dout = p.Floats(3, (long)rows * c), dinp = p.Zeros((long)rows * c);
        p.Cpu.RmsNormBackward(dinp.C, dout.C, o.C, rstd.C, rows, c);
        p.Gpu.RmsNormBackward(dinp.G, dout.G, o.G, rstd.G, rows, c);
        p.Close(dinp, Fp32, "dinp");
        p.Cpu.AddRmsNormForward(a.C, rstd.C, a.C, b.C, rows, c, 1e-5f); // out aliases a
        p.Gpu.AddRmsNormForward(a.G, rstd.G, a.G, b.G, rows, c, 1e-5f);
        p.Close(a, Fp32, "out aliasing a");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Add_rmsnorm_of_empty_rows_writes_the_cpus_nan_rstd_and_reads_nothing()
    {
        using BackendPair p = Pair();
        Twin empty = p.Zeros(0), rstd = p.Floats(4, 3); // rows of C = 0: rstd = 1 / sqrt(0 / 0 + eps) on both
        p.Cpu.AddRmsNormForward(empty.C, rstd.C, empty.C, empty.C, 3, 0, 1e-5f);
        p.Gpu.AddRmsNormForward(empty.G, rstd.G, empty.G, empty.G, 3, 0, 1e-5f);
        (float[] cpu, float[] gpu) = p.Read(rstd);
        Assert.All(cpu, v => Assert.True(float.IsNaN(v)));
        Assert.All(gpu, v => Assert.True(float.IsNaN(v)));
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 1536)]
    [InlineData(5, 13)]
    public void SwiGlu_forward_and_backward_match_the_cpu(int rows, int inter)
    {
        using BackendPair p = Pair();
        Twin gu = p.Floats(1, 2L * rows * inter, 4f), act = p.Zeros((long)rows * inter);
        p.Cpu.SwiGluForward(act.C, gu.C, rows, inter);
        p.Gpu.SwiGluForward(act.G, gu.G, rows, inter);
        p.Close(act, Fp32, "act");
        Twin dact = p.Floats(2, (long)rows * inter), dgu = p.Zeros(2L * rows * inter);
        p.Cpu.SwiGluBackward(dgu.C, dact.C, gu.C, rows, inter);
        p.Gpu.SwiGluBackward(dgu.G, dact.G, gu.G, rows, inter);
        p.Close(dgu, Fp32, "dgateUp");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 8, 64)]
    [InlineData(3, 5, 2, 6)]
    [InlineData(1, 1, 1, 16)]
    public void Rope_forward_and_backward_are_bitwise_equal(int batch, int t, int nh, int hs)
    {
        using BackendPair p = Pair();
        var cos = new float[t * hs];
        var sin = new float[t * hs];
        RopeTable.Build(cos, sin, t, hs, 10000.0);
        Twin qkv = p.Floats(1, 3L * batch * t * nh * hs), tc = p.Upload(cos), ts = p.Upload(sin);
        p.Cpu.RopeForward(qkv.C, tc.C, ts.C, batch, t, nh, hs);
        p.Gpu.RopeForward(qkv.G, tc.G, ts.G, batch, t, nh, hs);
        p.Same(qkv, "rope forward");
        p.Cpu.RopeBackward(qkv.C, tc.C, ts.C, batch, t, nh, hs);
        p.Gpu.RopeBackward(qkv.G, tc.G, ts.G, batch, t, nh, hs);
        p.Same(qkv, "rope backward");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 1, 512, 11)] // Sudoku
    [InlineData(3, 7, 2, 16, 5)]
    [InlineData(2, 5, 0, 8, 3)]     // no prefix
    public void Lm_head_forward_and_backward_match_the_cpu(int batch, int t, int p0, int c, int v)
    {
        using BackendPair p = Pair();
        int l = t - p0;
        Twin z = p.Floats(1, (long)batch * t * c), w = p.Floats(2, (long)v * c, 0.1f), logits = p.Zeros((long)batch * l * v);
        p.Cpu.LmHeadForward(logits.C, z.C, w.C, batch, t, p0, c, v);
        p.Gpu.LmHeadForward(logits.G, z.G, w.G, batch, t, p0, c, v);
        p.Close(logits, Fp32, "logits");
        Twin dl = p.Floats(3, (long)batch * l * v), dz = p.Floats(4, (long)batch * t * c), dw = p.Floats(5, (long)v * c);
        p.Cpu.LmHeadBackward(dz.C, dw.C, dl.C, z.C, w.C, batch, t, p0, c, v);
        p.Gpu.LmHeadBackward(dz.G, dw.G, dl.G, z.G, w.G, batch, t, p0, c, v);
        p.Close(dz, Fp32, "dzH (=, zero prefix)");
        p.Close(dw, Fp32, "dW (+=)");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(2, 82, 512)]
    [InlineData(9, 3, 300)]
    public void Q_head_forward_matches_and_backward_is_bitwise_equal(int batch, int t, int c)
    {
        using BackendPair p = Pair();
        Twin z = p.Floats(1, (long)batch * t * c), w = p.Floats(2, 2L * c), bias = p.Floats(3, 2), q = p.Zeros(2L * batch);
        p.Cpu.QHeadForward(q.C, z.C, w.C, bias.C, batch, t, c);
        p.Gpu.QHeadForward(q.G, z.G, w.G, bias.G, batch, t, c);
        p.Close(q, Fp32, "q");
        Twin dq = p.Floats(4, 2L * batch), dz = p.Floats(5, (long)batch * t * c), dw = p.Floats(6, 2L * c);
        Twin db = p.Floats(7, 2);
        p.Cpu.QHeadBackward(dz.C, dw.C, db.C, dq.C, z.C, w.C, batch, t, c);
        p.Gpu.QHeadBackward(dz.G, dw.G, db.G, dq.G, z.G, w.G, batch, t, c);
        p.Same(dz, "dzH (+= at position 0)");
        p.Same(dw, "dW (+=)");
        p.Same(db, "dbias (+=)");
    }
}
