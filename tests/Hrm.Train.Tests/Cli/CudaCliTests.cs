using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Tests.Cli;

/// <summary>The CLI's <c>--device cuda</c> and <c>hrm info</c>'s CUDA line, on whatever machine runs the tests.</summary>
public sealed class CudaCliTests : CliHarness
{
    [Fact]
    public void Device_cuda_without_a_gpu_fails_with_a_clear_error()
    {
        CudaProbeResult probe = CudaProbe.Run();
        Assert.SkipWhen(probe.Available, $"a CUDA device is available here: {probe}");
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        Npy.WriteUInt8(P("inputs.npy"), new byte[81], [1, 81]);
        (int code, string output, string err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs",
            P("inputs.npy"), "--device", "cuda", "--out", P("out"));
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("hrm: error: no usable CUDA device: ", err, StringComparison.Ordinal);
        Assert.Contains(probe.ShortReason, err, StringComparison.Ordinal);
        Assert.Contains("--device cpu", err, StringComparison.Ordinal);
    }

    // The fused module kernel through the CLI, on a GPU: the Sudoku architecture (head size 64, 82 positions) with
    // fresh weights, predict over 1 and 2 segments with and without --fused-module, and with fp32 GEMMs as the
    // reference: the fused run no further from it than the unfused one, give or take. --batch-size 1: two Evaluate
    // calls, the second of which (2 segments) captures its second segment as a CUDA graph and replays it. Fresh weights
    // make the recurrence chaotic: bf16 rounding noise grows segment by segment, so more segments prove nothing (4
    // segments: fused vs unfused 0.23 apart on an H200 and 0.40 on the CPU emulator, where unfused bf16 and fp32 GEMMs
    // were 1.12 apart; 1 segment on the emulator: 7.9e-3, and both 3.0e-2 from fp32).
    [Fact]
    public void Predict_with_the_fused_module_kernel_matches_without_it_on_a_gpu()
    {
        CudaProbeResult probe = CudaProbe.Run();
        Assert.SkipUnless(probe.Available, $"no CUDA device: {probe}");
        Assert.Equal(0, Hrm("init", "--preset", "sudoku-extreme-1k", "--seed", "3", "--out", P("m.safetensors")).Code);
        var tokens = new byte[2 * 81];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = (byte)(1 + i * 7 % 10);
        Npy.WriteUInt8(P("inputs.npy"), tokens, [2, 81]);
        var log = new System.Text.StringBuilder();
        foreach (int steps in new[] { 1, 2 })
        {
            float[] Logits(string name, params string[] extra)
            {
                (int code, _, string err) = Hrm(["predict", "--checkpoint", P("m.safetensors"), "--inputs",
                    P("inputs.npy"), "--device", "cuda", "--max-steps", $"{steps}", "--batch-size", "1",
                    "--out", P($"{name}{steps}"), .. extra]);
                Assert.True(code == 0, err);
                return Npy.Read(P($"{name}{steps}/logits.npy")).ToFloat32();
            }
            float[] ops = Logits("ops"), fused = Logits("fused", "--fused-module");
            float[] f32 = Logits("f32", "--fp32-matmul");
            double apart = Rel(ops, fused), opsErr = Rel(f32, ops), fusedErr = Rel(f32, fused);
            string line = $"{steps} segment(s): fused vs ops {apart:E2}; from fp32 GEMMs: ops {opsErr:E2}, " +
                $"fused {fusedErr:E2}";
            log.AppendLine(line);
            TestContext.Current.TestOutputHelper?.WriteLine(line);
            Assert.True(apart > 0, $"--fused-module gave the logits without it, bitwise: it did not run\n{log}");
            Assert.True(fusedErr <= 2 * opsErr + 1e-3, $"--fused-module further from fp32 GEMMs than without\n{log}");
            if (steps == 1) Assert.True(apart < 5e-2, $"one segment: fused vs ops beyond the bf16 tolerance\n{log}");
        }
    }

    private static double Rel(float[] expected, float[] actual)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            num += (double)(expected[i] - actual[i]) * (expected[i] - actual[i]);
            den += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void Info_prints_the_cuda_probe()
    {
        CudaProbeResult probe = CudaProbe.Run();
        (int code, string output, string err) = Hrm("info", "--preset", "tiny");
        Assert.True(code == 0, err);
        Assert.Contains("cuda: " + probe, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_takes_fp32_or_bf16_matmul_and_the_cpu_computes_the_same_fp32_numbers_with_either()
    {
        Assert.Equal(0, Hrm("data", "sudoku", "--generate", "8", "--test", "4", "--size", "4", "--out", P("data")).Code);
        string[] common = ["train", "--preset", "sudoku-tiny", "--data", P("data"), "--set", "epochs=2",
            "--set", "eval_interval=2", "--set", "global_batch_size=4", "--device", "cpu", "--threads", "2"];
        (int code, _, string err) = Hrm([.. common, "--run-dir", P("fp32")]);
        Assert.True(code == 0, err);
        (code, _, err) = Hrm([.. common, "--run-dir", P("bf16"), "--bf16-matmul"]);
        Assert.True(code == 0, err);
        (code, _, err) = Hrm([.. common, "--run-dir", P("fp32-flag"), "--fp32-matmul"]);
        Assert.True(code == 0, err);
        (code, _, err) = Hrm([.. common, "--run-dir", P("both"), "--fp32-matmul", "--bf16-matmul"]);
        Assert.Equal(2, code);
        Assert.Contains("at most one of --fp32-matmul and --bf16-matmul", err, StringComparison.Ordinal);
        (code, _, err) = Hrm([.. common, "--run-dir", P("stream"), "--no-bf16-stream"]); // recorded; the CPU ignores it
        Assert.True(code == 0, err);
        Assert.Contains("\"bf16_stream\":false", File.ReadAllText(P("stream/compute.json")), StringComparison.Ordinal);
        foreach (string run in new[] { "fp32", "bf16", "fp32-flag" }) // bf16 GEMMs, the default: the bf16 stream too
        {
            Assert.Contains($"\"bf16_stream\":{(run == "fp32-flag" ? "false" : "true")}",
                File.ReadAllText(P(run + "/compute.json")), StringComparison.Ordinal);
        }
        static string[] Losses(string path) => [.. File.ReadLines(path)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, "\"train/lm_loss\":[^,}]+").Value)
            .Where(v => v.Length > 0)];
        string[] a = Losses(P("fp32/metrics.jsonl")), b = Losses(P("bf16/metrics.jsonl"));
        Assert.NotEmpty(a);
        Assert.Equal(a, b);
        Assert.Equal(a, Losses(P("fp32-flag/metrics.jsonl")));
        Assert.Equal(a, Losses(P("stream/metrics.jsonl")));
    }

    [Fact]
    public void Device_cuda_n_without_a_gpu_number_is_a_clear_error()
    {
        Assert.Equal(0, Hrm("init", "--preset", "tiny", "--out", P("m.safetensors")).Code);
        Npy.WriteUInt8(P("inputs.npy"), new byte[81], [1, 81]);
        (int code, string output, string err) = Hrm("predict", "--checkpoint", P("m.safetensors"), "--inputs",
            P("inputs.npy"), "--device", "cuda:one", "--out", P("out"));
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal("hrm: error: --device: expected cuda:N with N a GPU number (0, 1, ...), got 'cuda:one'",
            err.Trim());
        Assert.False(Directory.Exists(P("out")));
    }

    [Fact]
    public void Usage_lists_the_cuda_device()
    {
        (_, string output, _) = Hrm("help");
        Assert.Contains("--device auto|cpu|cuda[:N]|reference", output, StringComparison.Ordinal);
    }
}
