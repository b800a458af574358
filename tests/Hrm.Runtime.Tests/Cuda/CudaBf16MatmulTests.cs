using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Tests.TestUtil;
using static Hrm.Runtime.Tests.TestUtil.BackendBuffers;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The bf16 linear layers (<see cref="CudaBackendOptions.Bf16Matmul"/>; GPU only): forward and backward against
/// double-precision products of the bf16-rounded operands (fp32 accumulation is all that separates them), and the
/// bf16 weight copies: redone on every call outside a weight-reuse scope, made once inside one.
/// </summary>
[Collection("Cuda")]
public sealed class CudaBf16MatmulTests(CudaFixture cuda, ITestOutputHelper output)
{
    private const double Accumulation = 1e-4; // fp32 accumulation of exact bf16 products

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData(164, 512, 1536)] // qkv projection, Sudoku B=2
    [InlineData(164, 1536, 512)] // down projection
    [InlineData(37, 19, 23)]     // odd
    [InlineData(1, 1, 1)]
    public void Forward_and_backward_match_products_of_the_rounded_operands(int m, int k, int n)
    {
        using CudaBackend gpu = Backend();
        float[] x = TestData.Floats(1, m * k), w = TestData.Floats(2, n * k, 0.1f);
        float[] dy = TestData.Floats(3, m * n), dw0 = TestData.Floats(4, n * k);
        Buf gx = Up(gpu, x), gw = Up(gpu, w), gy = gpu.Allocate((long)m * n, "y");
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, Forward(x, w, m, k, n), "out");
        if (k >= 16)
        {
            // The rounding is really there: the fp32 product of the unrounded operands is much further away.
            double[] exact = new double[m * n];
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            for (int c = 0; c < k; c++)
                exact[i * n + j] += (double)x[i * k + c] * w[j * k + c];
            var got = new float[m * n];
            gpu.Download(gy, got);
            double rel = TensorAssert.RelNorm(exact, got);
            output.WriteLine($"out vs the unrounded product: {rel:E2}");
            Assert.InRange(rel, 1e-4, 2e-2);
        }
        Buf gdy = Up(gpu, dy), gdw = Up(gpu, dw0), gdx = gpu.Allocate((long)m * k, "dx");
        gpu.MatmulBackward(gdx, gdw, gdy, gx, gw, m, k, n);
        double[] dx = new double[m * k], dw = new double[n * k];
        for (int i = 0; i < m; i++)
        for (int c = 0; c < k; c++)
            dx[i * k + c] = Dot(dy, i * n, 1, w, c, k, n);
        for (int j = 0; j < n; j++)
        for (int c = 0; c < k; c++)
            dw[j * k + c] = dw0[j * k + c] + Dot(dy, j, n, x, c, k, m);
        Check(gpu, gdx, dx, "dinp");
        Check(gpu, gdw, dw, "dweight (+=)");
        // dinp += the product (beta 1: the block backward's residual sums): the fp32 dinp read as it is.
        float[] dx0 = TestData.Floats(5, m * k);
        Buf gacc = Up(gpu, dx0);
        gpu.MatmulBackward(gacc, gdw, gdy, gx, gw, m, k, n, accumulate: true);
        for (int e = 0; e < dx.Length; e++) dx[e] += dx0[e];
        Check(gpu, gacc, dx, "dinp (+=)");
        // A bf16 dinp is written only: accumulating into one is refused before anything runs.
        Buf half = AllocBf16(gpu, (long)m * k);
        var e2 = Assert.Throws<ArgumentException>(() =>
            gpu.MatmulBackward(half, gdw, gdy, gx, gw, m, k, n, accumulate: true));
        Assert.Equal("dinp", e2.ParamName);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void Weight_copies_follow_the_weights_outside_a_reuse_scope_and_are_kept_inside_one()
    {
        using CudaBackend gpu = Backend();
        const int m = 8, k = 64, n = 32;
        float[] x = TestData.Floats(1, m * k), w1 = TestData.Floats(2, n * k), w2 = TestData.Floats(3, n * k);
        Buf gx = Up(gpu, x), gw = Up(gpu, w1), gy = gpu.Allocate(m * n, "y");
        double[] y1 = Forward(x, w1, m, k, n), y2 = Forward(x, w2, m, k, n);
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y1, "W1");
        gpu.Upload(w2, gw);
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "W2 after an upload, no scope");
        gpu.BeginWeightReuse();
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "W2 in a scope");
        gpu.Upload(w1, gw); // breaks the scope's promise on purpose: the copy made above is what is used
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y2, "the scope's copy of W2");
        gpu.EndWeightReuse();
        gpu.MatmulForward(gy, gx, gw, m, k, n);
        Check(gpu, gy, y1, "W1 after the scope");
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData("Add")]
    [InlineData("AddRmsNormForward")]
    [InlineData("SwiGluForward")]
    [InlineData("AttentionForward")]
    [InlineData("RopeAttentionForward")]
    public void A_producer_s_bf16_copy_feeds_the_next_gemm_with_the_same_bits_and_one_kernel_fewer(string producer)
    {
        using CudaBackend gpu = Backend();
        const int batch = 2, t = 19, nh = 2, m = batch * t, k = nh * 64, n = 48; // the attention: 2 heads of 64
        float[] wHost = TestData.Floats(5, n * k, 0.1f);
        Buf a = Up(gpu, TestData.Floats(1, m * k)), b = Up(gpu, TestData.Floats(2, m * k));
        float[] qkvHost = TestData.Floats(4, 3 * m * k);
        Buf gateUp = Up(gpu, TestData.Floats(3, 2 * m * k)), qkv = Up(gpu, qkvHost);
        Buf w = Up(gpu, wHost), x = gpu.Allocate(m * k, "x"), y = gpu.Allocate(m * n, "y");
        Buf rstd = gpu.Allocate(m, "rstd"), lse = gpu.Allocate(batch * nh * t, "lse"), other = gpu.Allocate(1, "other");
        Buf cos = Up(gpu, TestData.Floats(6, t * 64)), sin = Up(gpu, TestData.Floats(7, t * 64));
        void Produce()
        {
            switch (producer)
            {
                case "Add": gpu.Add(x, a, b); break;
                case "AddRmsNormForward": gpu.AddRmsNormForward(x, rstd, a, b, m, k, 1e-5f); break;
                case "SwiGluForward": gpu.SwiGluForward(x, gateUp, m, k); break;
                case "AttentionForward": gpu.AttentionForward(x, lse, qkv, batch, t, nh, 64); break;
                default: // one kernel; it rotates qkv in place, so each call starts from the same qkv
                    gpu.Upload(qkvHost, qkv);
                    gpu.RopeAttentionForward(x, lse, qkv, cos, sin, batch, t, nh, 64);
                    break;
            }
        }
        gpu.MatmulForward(y, a, w, m, k, n); // sizes the operand scratch, allocates W's bf16 copy
        gpu.BeginWeightReuse();              // W converted once, here
        Produce();
        long before = gpu.Launches;
        gpu.MatmulForward(y, x, w, m, k, n);
        long fused = gpu.Launches - before;
        float[] viaCopy = Down(gpu, y);
        Produce();
        gpu.Fill(other, 0f); // any op in between: the GEMM converts x itself
        before = gpu.Launches;
        gpu.MatmulForward(y, x, w, m, k, n);
        long converted = gpu.Launches - before;
        float[] viaConversion = Down(gpu, y);
        gpu.EndWeightReuse();
        output.WriteLine($"{producer}: GEMM after it {fused} launch(es), after another op {converted}");
        Assert.Equal(2, converted);
        Assert.Equal(1, fused);
        Assert.Equal(viaConversion, viaCopy);
        Check(gpu, y, Forward(Down(gpu, x), wHost, m, k, n), producer);
    }

    [Trait("Category", "Gpu")]
    [Theory]
    [InlineData("RmsNormBackward")]
    [InlineData("SwiGluBackward")]
    [InlineData("RopeAttentionBackward")]
    public void A_backward_producer_s_bf16_copy_feeds_the_next_gemm_backward_with_the_same_bits(string producer)
    {
        using CudaBackend gpu = Backend();
        const int batch = 2, t = 15, nh = 2, m = batch * t, k = 40;
        // dgateUp (M, 2I) with I = 24, dqkv (M, 3C) of 2 heads of 64, or dinp (M, C)
        int n = producer switch { "SwiGluBackward" => 2 * 24, "RopeAttentionBackward" => 3 * nh * 64, _ => 24 };
        float[] xHost = TestData.Floats(1, m * k), wHost = TestData.Floats(2, n * k, 0.1f);
        Buf x = Up(gpu, xHost), w = Up(gpu, wHost), dy = gpu.Allocate((long)m * n, "dy");
        Buf dout = Up(gpu, TestData.Floats(3, m * n)), fwd = Up(gpu, TestData.Floats(4, m * n));
        Buf rstd = Up(gpu, TestData.Floats(5, m)), dact = Up(gpu, TestData.Floats(6, m * n / 2));
        Buf dx = gpu.Allocate((long)m * k, "dx"), dw = gpu.Allocate((long)n * k, "dw"), other = gpu.Allocate(1, "other");
        Buf att = gpu.Allocate(m * nh * 64, "att"), lse = gpu.Allocate(batch * nh * t, "lse");
        Buf datt = Up(gpu, TestData.Floats(7, m * nh * 64));
        Buf cos = Up(gpu, TestData.Floats(8, t * 64)), sin = Up(gpu, TestData.Floats(9, t * 64)); // random tables
        if (producer == "RopeAttentionBackward") gpu.AttentionForward(att, lse, fwd, batch, t, nh, 64); // fwd: qkv
        void Produce()
        {
            if (producer == "RmsNormBackward") gpu.RmsNormBackward(dy, dout, fwd, rstd, m, n);
            else if (producer == "SwiGluBackward") gpu.SwiGluBackward(dy, dact, fwd, m, n / 2);
            else gpu.RopeAttentionBackward(dy, datt, fwd, att, lse, cos, sin, batch, t, nh, 64);
        }
        gpu.MatmulBackward(dx, dw, dout, x, w, m, k, n); // sizes the scratch, allocates W's bf16 copy
        gpu.BeginWeightReuse();
        (float[] dx, float[] dw, long launches) Run(bool between)
        {
            gpu.Fill(dw, 0f);
            Produce();
            if (between) gpu.Fill(other, 0f);
            long before = gpu.Launches;
            gpu.MatmulBackward(dx, dw, dy, x, w, m, k, n);
            return (Down(gpu, dx), Down(gpu, dw), gpu.Launches - before);
        }
        (float[] dx1, float[] dw1, long fused) = Run(between: false);
        (float[] dx2, float[] dw2, long converted) = Run(between: true);
        gpu.EndWeightReuse();
        output.WriteLine($"{producer}: GEMM backward after it {fused} launches, after another op {converted}");
        Assert.Equal(4, converted); // dout and inp converted, two GEMMs
        Assert.Equal(3, fused);
        Assert.Equal(dx2, dx1);
        Assert.Equal(dw2, dw1);
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_gemm_never_reads_a_stale_or_foreign_bf16_copy()
    {
        using CudaBackend gpu = Backend();
        const int m = 19, k = 32, n = 24;
        float[] aHost = TestData.Floats(1, m * k), bHost = TestData.Floats(2, m * k), wHost = TestData.Floats(3, n * k);
        Buf a = Up(gpu, aHost), b = Up(gpu, bHost), w = Up(gpu, wHost);
        Buf x = gpu.Allocate(m * k, "x"), y = gpu.Allocate(m * n, "y");
        gpu.MatmulForward(y, a, w, m, k, n); // sizes the operand scratch
        gpu.Add(x, a, b);
        gpu.MatmulForward(y, a, w, m, k, n); // another input than the one just written
        Check(gpu, y, Forward(aHost, wHost, m, k, n), "the GEMM right after an Add into another buffer");
        gpu.Add(x, a, b);
        gpu.Fill(x, 0.5f);                   // x changed after its copy was made
        gpu.MatmulForward(y, x, w, m, k, n);
        Check(gpu, y, Forward(Enumerable.Repeat(0.5f, m * k).ToArray(), wHost, m, k, n), "x filled after the Add");
        gpu.Add(x, a, b);
        // A view of fewer rows at the same address: the copy's first rows serve it.
        gpu.MatmulForward(y.Slice(0, (m - 1) * n), x.Slice(0, (m - 1) * k), w, m - 1, k, n);
        float[] sum = new float[m * k];
        for (int i = 0; i < sum.Length; i++) sum[i] = aHost[i] + bHost[i];
        double[] expected = Forward(sum, wHost, m, k, n);
        var got = Down(gpu, y);
        double rel = TensorAssert.RelNorm(expected.AsSpan(0, (m - 1) * n), got.AsSpan(0, (m - 1) * n));
        Assert.True(rel <= Accumulation, $"m - 1 rows: relative L2 error {rel:E3}");

        // A copy of fewer rows than the GEMM reads is not used (its last row would be stale: bf16(a + b), not 0.25).
        gpu.Fill(x, 0.25f);
        int head = (m - 1) * k;
        gpu.Add(x.Slice(0, head), a.Slice(0, head), b.Slice(0, head));
        gpu.MatmulForward(y, x, w, m, k, n);
        float[] partial = Enumerable.Repeat(0.25f, m * k).ToArray();
        sum.AsSpan(0, head).CopyTo(partial);
        Check(gpu, y, Forward(partial, wHost, m, k, n), "a copy of m - 1 rows, a GEMM on m");
    }

    [Trait("Category", "Gpu")]
    [Fact]
    public void A_copy_made_before_a_replayed_graph_is_not_read_after_it()
    {
        using CudaBackend gpu = Backend(); // graphs on
        const int m = 16, k = 32, n = 8;
        float[] aHost = TestData.Floats(1, m * k), bHost = TestData.Floats(2, m * k), cHost = TestData.Floats(3, m * k);
        float[] wHost = TestData.Floats(4, n * k);
        Buf a = Up(gpu, aHost), b = Up(gpu, bHost), c = Up(gpu, cHost), w = Up(gpu, wHost);
        Buf x = gpu.Allocate(m * k, "x"), y = gpu.Allocate(m * n, "y"), y2 = gpu.Allocate(m * n, "y2");
        float[] sum = new float[m * k];
        for (int i = 0; i < sum.Length; i++) sum[i] = aHost[i] + bHost[i];
        double[] expected = Forward(sum, wHost, m, k, n);
        Action ops = () => gpu.MatmulForward(y2, c, w, m, k, n); // converts c into the operand scratch
        gpu.BeginWeightReuse();
        for (int i = 0; i < 4; i++) // warm-up, capture + replay, replays
        {
            gpu.Add(x, a, b);      // writes bf16(x) into the scratch
            gpu.RunRecorded(ops);  // a replay runs no host code, yet overwrites the scratch
            gpu.MatmulForward(y, x, w, m, k, n);
            Check(gpu, y, expected, $"the GEMM after call {i + 1} of the recorded sequence");
        }
        gpu.EndWeightReuse();
        Assert.True(gpu.GraphReplays >= 2, $"the sequence replayed {gpu.GraphReplays} times");
    }

    /// <summary>
    /// <see cref="CudaBackendOptions.TuneGemms"/>: the first call of a shape times the heuristic's candidates and keeps
    /// the fastest, leaving the results right (an accumulating GEMM's D untouched by the timing runs); a first call
    /// inside a graph capture is not timed (no waiting there), the next call outside one is. On the CPU emulator the
    /// fake cuBLASLt offers three algorithms with the same numerics; on a GPU however many the heuristic finds.
    /// </summary>
    [Trait("Category", "Gpu")]
    [Fact]
    public void Gemm_tuning_keeps_the_fastest_candidate_and_the_results()
    {
        using CudaBackend gpu = cuda.Bf16MatmulBackendOrSkip(new CudaBackendOptions { TuneGemms = true });
        using CudaBackend plain = Backend(); // the default: the heuristic's first algorithm
        const int m = 164, k = 512, n = 1536;
        float[] x = TestData.Floats(1, m * k), w = TestData.Floats(2, n * k, 0.1f);
        float[] dy = TestData.Floats(3, m * n), dw0 = TestData.Floats(4, n * k);
        float[] Run(CudaBackend be)
        {
            Buf gx = Up(be, x), gw = Up(be, w), gy = be.Allocate((long)m * n, "y");
            Buf gdy = Up(be, dy), gdw = Up(be, dw0), gdx = be.Allocate((long)m * k, "dx");
            be.MatmulForward(gy, gx, gw, m, k, n);
            be.MatmulBackward(gdx, gdw, gdy, gx, gw, m, k, n);
            return [.. Down(be, gy), .. Down(be, gdx), .. Down(be, gdw)];
        }
        float[] tuned = Run(gpu), untuned = Run(plain);
        Assert.Empty(plain.GemmTunings);
        foreach (GemmTuning t in gpu.GemmTunings) output.WriteLine(t.ToString());
        // forward, dinp, dweight (+=): each timed when the heuristic offered more than one algorithm (the emulator's
        // fake offers three for every problem, so there all three are).
        bool emulator = gpu.DeviceDescription.Contains("emulator", StringComparison.Ordinal);
        Assert.InRange(gpu.GemmTunings.Count, emulator ? 3 : 0, 3);
        if (emulator) Assert.Contains(gpu.GemmTunings, t => t.Accumulates && t.Candidates == 3);
        foreach (GemmTuning t in gpu.GemmTunings)
        {
            Assert.InRange(t.Chosen, 0, t.Candidates - 1);
            Assert.True(t.Chosen == 0 ? t.ChosenMs == t.FirstMs : t.ChosenMs <= 0.97 * t.FirstMs, t.ToString());
        }
        // Any candidate computes the same product up to the order of its sums (the emulator's: bit for bit).
        double rel = TensorAssert.RelNorm(Array.ConvertAll(untuned, v => (double)v), tuned);
        output.WriteLine($"tuned vs the heuristic's first algorithm: {rel:E2}");
        Assert.True(rel < Accumulation, $"{rel:E2}");

        // A shape first seen in a capture is timed at its next call outside one.
        using CudaBackend fresh = cuda.Bf16MatmulBackendOrSkip(new CudaBackendOptions { TuneGemms = true });
        Buf fx = Up(fresh, [.. x, .. x]), fw = Up(fresh, w), fy = fresh.Allocate(2L * m * n, "y");
        fresh.MatmulForward(fy, fx, fw, 2 * m, k, n); // another shape: the weight copy and operand scratch exist now
        int before = fresh.GemmTunings.Count;
        Buf hx = fx.Slice(0, (long)m * k), hy = fy.Slice(0, (long)m * n);
        fresh.Stream.BeginCapture();
        fresh.MatmulForward(hy, hx, fw, m, k, n);
        fresh.Stream.EndCapture().Dispose();
        Assert.Equal(before, fresh.GemmTunings.Count);
        fresh.MatmulForward(hy, hx, fw, m, k, n);
        Assert.Equal(before + gpu.GemmTunings.Count(t => !t.Accumulates && t.N == m && t.M == n), fresh.GemmTunings.Count);
    }

    private CudaBackend Backend() => cuda.Bf16MatmulBackendOrSkip();

    private static float R(float v) => BFloat16.ToFloat(BFloat16.FromFloat(v));

    /// <summary>Σ_c bf16(a[ai + c·sa]) · bf16(b[bi + c·sb]) in double.</summary>
    private static double Dot(float[] a, int ai, int sa, float[] b, int bi, int sb, int len)
    {
        double s = 0;
        for (int c = 0; c < len; c++) s += (double)R(a[ai + c * sa]) * R(b[bi + c * sb]);
        return s;
    }

    private static double[] Forward(float[] x, float[] w, int m, int k, int n)
    {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            y[i * n + j] = Dot(x, i * k, 1, w, j * k, 1, k);
        return y;
    }

    private void Check(CudaBackend gpu, Buf b, double[] expected, string what)
    {
        var got = new float[b.Length];
        gpu.Download(b, got);
        double rel = TensorAssert.RelNorm(expected, got);
        output.WriteLine($"{what}: relative L2 error {rel:E2} vs the rounded operands");
        Assert.True(rel <= Accumulation, $"{what}: relative L2 error {rel:E3} > {Accumulation:E0}");
    }
}
