using System.Globalization;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm eval --halting fixed|adaptive</c> and <c>--max-steps</c> sweeps: the split through the solver's scheduler
/// (<see cref="SolverEvaluator"/>), one column per policy; adaptive runs are printed next to the fixed run with the
/// same max steps. A sweep prints one table row per max-steps value. <c>--out</c> (single run) writes
/// predictions.npy, q_halt_logits.npy, q_continue_logits.npy and segments.npy (int32 [N]) of the last policy (and
/// answers.txt for a text dataset, <see cref="TextAnswersFile"/>).
/// </summary>
internal static class HaltingEval
{
    /// <summary>What to run: the max-steps values and, per value, fixed and/or adaptive.</summary>
    public sealed record Plan(int[] MaxSteps, bool Fixed, bool Adaptive, int MinSteps, float Margin, string? OutDir,
        string? DataRoot = null);

    public static int Run(HrmSolver solver, PuzzleDataset test, Plan plan, TextWriter o)
    {
        SolverEvaluator.Warmup(solver, test);
        if (plan.MaxSteps.Length == 1)
        {
            List<SolverEvalResult> runs = [.. Policies(plan, plan.MaxSteps[0], solver.Config.NoActContinue)
                .Select(p => SolverEvaluator.Run(solver, test, p, keepOutputs: plan.OutDir != null))];
            PrintColumns(o, runs);
            if (plan.OutDir != null) WriteOutputs(plan, runs[^1], test.ExampleCount, test.SeqLen, o);
            return 0;
        }
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"max_steps",9} | {"fixed exact",11} {"accuracy",8} {"seq/s",8} | {"adaptive exact",14} {"accuracy",8} " +
            $"{"segments",8} {"seq/s",8}"));
        foreach (int m in plan.MaxSteps)
        {
            SolverEvalResult[] runs = [.. Policies(plan, m, solver.Config.NoActContinue).Select(p => SolverEvaluator.Run(solver, test, p, keepOutputs: false))];
            SolverEvalResult? f = runs.FirstOrDefault(r => r.Policy.Mode == HaltingMode.Fixed);
            SolverEvalResult? a = runs.FirstOrDefault(r => r.Policy.Mode == HaltingMode.Adaptive);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m,9} | {Cell(f, r => r.ExactAccuracy, 11)} {Cell(f, r => r.Accuracy, 8)} {Cell(f, r => r.Throughput, 8, "F1")} | " +
                $"{Cell(a, r => r.ExactAccuracy, 14)} {Cell(a, r => r.Accuracy, 8)} {Cell(a, r => r.MeanSegments, 8, "F2")} " +
                $"{Cell(a, r => r.Throughput, 8, "F1")}"));
        }
        return 0;
    }

    /// <summary>Fixed before adaptive; a sweep's min steps is capped at each max steps; q_halt alone for no_ACT_continue models.</summary>
    private static IEnumerable<HaltingPolicy> Policies(Plan plan, int maxSteps, bool haltLogitOnly)
    {
        if (plan.Fixed) yield return new HaltingPolicy(HaltingMode.Fixed, maxSteps);
        if (plan.Adaptive)
        {
            int min = plan.MaxSteps.Length > 1 ? Math.Min(plan.MinSteps, maxSteps) : plan.MinSteps;
            yield return new HaltingPolicy(HaltingMode.Adaptive, maxSteps, min, plan.Margin, haltLogitOnly);
        }
    }

    private static void PrintColumns(TextWriter o, List<SolverEvalResult> runs)
    {
        var cols = runs.Select(r => r.Policy.Mode == HaltingMode.Fixed
            ? $"fixed {r.Policy.MaxSteps}"
            : string.Create(CultureInfo.InvariantCulture, $"adaptive {r.Policy.MinSteps}..{r.Policy.MaxSteps} m={r.Policy.Margin:G3}")).ToList();
        o.WriteLine($"{"",-24} {string.Join(" ", cols.Select(c => $"{c,22}"))}");
        Row("eval/accuracy", r => r.Accuracy, "F4");
        Row("eval/exact_accuracy", r => r.ExactAccuracy, "F4");
        Row("eval/q_halt_accuracy", r => (double)r.Metrics.QHaltAccuracy / r.Metrics.Count, "F4");
        Row("mean segments", r => r.MeanSegments, "F3");
        Row("sequences/s", r => r.Throughput, "F1");
        Row("seconds", r => r.Seconds, "F1");

        void Row(string name, Func<SolverEvalResult, double> value, string format) =>
            o.WriteLine($"{name,-24} {string.Join(" ", runs.Select(r => value(r).ToString(format, CultureInfo.InvariantCulture).PadLeft(22)))}");
    }

    private static string Cell(SolverEvalResult? r, Func<SolverEvalResult, double> value, int width, string format = "F4") =>
        (r == null ? "-" : value(r).ToString(format, CultureInfo.InvariantCulture)).PadLeft(width);

    private static void WriteOutputs(Plan plan, SolverEvalResult r, int n, int l, TextWriter o)
    {
        string dir = plan.OutDir!;
        Directory.CreateDirectory(dir);
        Npy.WriteInt32(Path.Combine(dir, "predictions.npy"), r.Predictions!, [n, l]);
        Npy.WriteFloat32(Path.Combine(dir, "q_halt_logits.npy"), r.QHalt!, [n]);
        Npy.WriteFloat32(Path.Combine(dir, "q_continue_logits.npy"), r.QContinue!, [n]);
        Npy.WriteInt32(Path.Combine(dir, "segments.npy"), r.Segments, [n]);
        o.WriteLine($"wrote predictions.npy [{n}, {l}], q_halt_logits.npy, q_continue_logits.npy, segments.npy [{n}] " +
                    $"({r.Policy.Mode.ToString().ToLowerInvariant()} halting) to {dir}");
        PredictCommand.RemoveStale(dir, "logits.npy", "a reference evaluation or predict", o);
        TextAnswersFile.Write(dir, plan.DataRoot, r.Predictions!, n, l, o);
    }
}
