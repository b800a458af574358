using System.Globalization;
using Hrm.Bench.Torch;
using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Threading;
using Hrm.Train.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hrm.Bench.Compare;

/// <summary>
/// The cases of <c>hrm-bench compare</c>. Each loads one checkpoint into our runtime (CPU backend) and into the
/// TorchSharp twin, checks that the outputs agree (throws when they do not: nothing is timed on a mismatch), then
/// times both with <see cref="CompareTimer"/>.
/// </summary>
public sealed class CompareCases(int threads, TextWriter log)
{
    /// <summary>Relative L2 error allowed before timing (outputs of 1-2 segments; the first-step loss: 1e-3).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Segment forward (no gradient) at <paramref name="batch"/> rows, from a carry reset to H_init/L_init.</summary>
    public CompareResult SegmentForward(string checkpoint, string name, int batch, int reps, double? target)
    {
        using HrmModel ours = HrmCheckpoint.Load(checkpoint, new CpuBackend(threads));
        using TorchHrm twin = TorchHrm.Load(checkpoint);
        HrmConfig c = ours.Config;
        (int[] tokens, int[] ids, _) = Inputs(c, batch, 3);
        ours.Reserve(batch, training: false);
        var state = new ActState(batch, c.SeqLen);
        ours.ActStep(state, tokens, ids, default, training: false); // resets the carry, stages the inputs
        var logits = new float[batch * c.SeqLen * c.VocabSize];
        ours.ReadLogits(logits);
        using DisposeScope scope = NewDisposeScope();
        using IDisposable inference = inference_mode();
        using TwinCarry carry = twin.InitialCarry(batch);
        Tensor tok = twin.Tokens(tokens, batch), rows = twin.PuzzleRows(ids);
        double rel = RelNorm(TorchHrm.ToArray(Run(twin, carry, tok, rows)), logits);
        string agreement = Check(rel, Tolerance, $"{name} logits");
        (double a, double b) = CompareTimer.Time(() => ours.Segment(record: false),
            () => Run(twin, carry, tok, rows).Dispose(), reps);
        return new CompareResult($"segment forward, {name}", $"B={batch}, S={c.TotalSeqLen}", reps, a, b, target, agreement);
    }

    /// <summary>
    /// A full solve: a fresh carry and HaltMaxSteps segments, the last segment's logits read back. The check runs the
    /// same solve with 2 segments: with freshly initialised weights the recurrence is chaotic (fp32 rounding
    /// differences grow about 3x per segment, measured), so 16-segment outputs of two correct fp32 implementations
    /// need not agree.
    /// </summary>
    public CompareResult Solve(string checkpoint, string name, int batch, int reps, double? target)
    {
        using HrmModel ours = HrmCheckpoint.Load(checkpoint, new CpuBackend(threads));
        using TorchHrm twin = TorchHrm.Load(checkpoint);
        HrmConfig c = ours.Config;
        int m = c.HaltMaxSteps;
        (int[] tokens, int[] ids, _) = Inputs(c, batch, 4);
        ours.Reserve(batch, training: false);
        var logits = new float[batch * c.SeqLen * c.VocabSize];
        void Ours(int segments)
        {
            ours.Evaluate(tokens, ids, segments);
            ours.ReadLogits(logits);
        }
        float[] Twin(int segments)
        {
            using DisposeScope scope = NewDisposeScope();
            using IDisposable inference = inference_mode();
            using TwinCarry carry = twin.InitialCarry(batch);
            Tensor tok = twin.Tokens(tokens, batch), rows = twin.PuzzleRows(ids);
            Tensor last = null!;
            for (int s = 0; s < segments; s++) last = Run(twin, carry, tok, rows);
            return TorchHrm.ToArray(last);
        }
        Ours(2);
        string agreement = Check(RelNorm(Twin(2), logits), Tolerance, $"{name} solve logits after 2 segments");
        (double a, double b) = CompareTimer.Time(() => Ours(m), () => Twin(m), reps);
        return new CompareResult($"{m}-segment solve, {name}", $"B={batch}, S={c.TotalSeqLen}", reps, a, b, target,
            agreement + " (2 segments)");
    }

    /// <summary>
    /// A training step as the trainers run it: ACT reset, recorded segment, Q-target segment, loss (stablemax CE +
    /// Q BCE), 1-step backward, AdamATan2 on the dense parameters, SignSGD on the puzzle rows.
    /// </summary>
    public CompareResult TrainingStep(string checkpoint, string name, int batch, int reps, double? target)
    {
        using HrmModel ours = HrmCheckpoint.Load(checkpoint, new CpuBackend(threads));
        using TorchHrm twin = TorchHrm.Load(checkpoint);
        using var ourStep = new OurTrainingStep(ours, batch);
        using var twinStep = new TorchTrainer(twin, batch);
        HrmConfig c = ours.Config;
        (int[] tokens, int[] ids, int[] labels) = Inputs(c, batch, 5);
        double oursLoss = ourStep.Step(tokens, labels, ids);
        double twinLoss = twinStep.Step(tokens, labels, ids, batch);
        string agreement = Check(Math.Abs(oursLoss - twinLoss) / Math.Abs(twinLoss), 1e-3, $"{name} first-step loss");
        (double a, double b) = CompareTimer.Time(() => ourStep.Step(tokens, labels, ids),
            () => twinStep.Step(tokens, labels, ids, batch), reps);
        return new CompareResult($"training step, {name}", $"B={batch}, S={c.TotalSeqLen}", reps, a, b, target,
            agreement + " (loss)");
    }

    /// <summary>
    /// y = x·Wᵀ, x (M, K), W (N, K): our CpuOps.MatmulForward against libtorch's <c>y.addmm_(x, W.t(), beta: 0)</c>,
    /// the GEMM <c>torch.matmul(x, W.t())</c> runs, into a y allocated once as ours is (matmul would return a fresh
    /// (M, N) tensor per call, and the timing would include allocating and first touching it).
    /// </summary>
    public CompareResult Gemm(int m, int k, int n, int reps, double? target)
    {
        var rng = new Random(1);
        float[] x = Random(rng, m * k), w = Random(rng, n * k), y = new float[m * n];
        using var pool = new WorkerPool(threads);
        using DisposeScope scope = NewDisposeScope();
        using IDisposable inference = inference_mode();
        Tensor tx = tensor(x, [m, k]), tw = tensor(w, [n, k]), ty = full(m, n, float.NaN); // (M, N): beta 0 ignores it
        Tensor twT = tw.t();
        CpuOps.MatmulForward(y, x, w, m, k, n, pool);
        ty.addmm_(tx, twT, beta: 0f, alpha: 1f);
        string agreement = Check(RelNorm(TorchHrm.ToArray(ty), y), 1e-5, "GEMM");
        Check(RelNorm(TorchHrm.ToArray(matmul(tx, twT)), y), 1e-5, "GEMM (torch.matmul)");
        (double a, double b) = CompareTimer.Time(() => CpuOps.MatmulForward(y, x, w, m, k, n, pool),
            () => ty.addmm_(tx, twT, beta: 0f, alpha: 1f), reps, warmup: 2);
        return new CompareResult("GEMM x·Wᵀ", $"[{m},{k}]x[{k},{n}]", reps, a, b, target, agreement);
    }

    private static Tensor Run(TorchHrm twin, TwinCarry carry, Tensor tok, Tensor rows)
    {
        TorchHrm.SegmentOutput o = twin.Segment(carry, tok, rows, grad: false);
        o.Q.Dispose();
        return o.Logits;
    }

    private string Check(double rel, double tol, string what)
    {
        string text = rel.ToString("0.0E+0", CultureInfo.InvariantCulture);
        log.WriteLine($"  check {what}: relative L2 difference {text} (limit {tol:G1})");
        if (!(rel <= tol))
        {
            throw new InvalidOperationException(
                $"{what}: ours and the TorchSharp twin differ by {text} (relative L2), above {tol:G1}; not timing");
        }
        return text;
    }

    /// <summary>Random tokens in [1, V), puzzle ids, and labels (the tokens themselves, one ignored position per row).</summary>
    private static (int[] Tokens, int[] Ids, int[] Labels) Inputs(HrmConfig c, int batch, int seed)
    {
        var r = new HrmRandom((ulong)seed);
        var tokens = new int[batch * c.SeqLen];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = r.NextInt(1, c.VocabSize);
        var ids = new int[batch];
        for (int i = 0; i < batch; i++) ids[i] = r.NextInt(0, c.NumPuzzleIdentifiers);
        int[] labels = (int[])tokens.Clone();
        for (int b = 0; b < batch; b++) labels[b * c.SeqLen] = HrmLoss.IgnoreLabel;
        return (tokens, ids, labels);
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private static double RelNorm(ReadOnlySpan<float> reference, ReadOnlySpan<float> actual)
    {
        double num = 0, den = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double d = (double)actual[i] - reference[i];
            num += d * d;
            den += (double)reference[i] * reference[i];
        }
        return reference.Length == actual.Length ? Math.Sqrt(num / Math.Max(den, 1e-300)) : double.NaN;
    }
}
