using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Train.Cli;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Analysis;

/// <summary>The carry after every segment of every recorded example: (N, S, T, C) each, row-major.</summary>
/// <param name="ZH">z_H (N, S, T, C).</param>
/// <param name="ZL">z_L (N, S, T, C).</param>
/// <param name="Examples">N.</param>
/// <param name="Segments">S.</param>
/// <param name="Positions">T: the sequence plus the puzzle-embedding prefix.</param>
/// <param name="Hidden">C.</param>
internal sealed record CarryTrajectories(float[] ZH, float[] ZL, int Examples, int Segments, int Positions, int Hidden);

/// <summary>
/// Runs evaluation-mode ACT (<see cref="ActRunner.RunSegments"/>) over the first examples of a dataset split and
/// copies z_H and z_L after every segment (<see cref="HrmModel.ReadCarry"/>).
/// </summary>
internal static class CarryRecorder
{
    /// <summary>Records the first <paramref name="examples"/> examples of <paramref name="data"/>, <paramref name="batch"/> at a time.</summary>
    /// <exception cref="ArgumentException">The dataset does not fit the model, or the trajectories would not fit in memory.</exception>
    public static CarryTrajectories Record(HrmModel model, PuzzleDataset data, int examples, int maxSteps, int batch)
    {
        HrmConfig a = model.Config;
        if (data.SeqLen != a.SeqLen || data.Metadata.VocabSize != a.VocabSize)
        {
            throw new ArgumentException($"the dataset's seq_len {data.SeqLen} / vocab_size {data.Metadata.VocabSize} " +
                $"do not match the checkpoint's {a.SeqLen} / {a.VocabSize}");
        }
        if (examples < 1 || examples > data.ExampleCount)
            throw new ArgumentException($"asked for {examples} examples; the split has {data.ExampleCount}");
        int t = a.TotalSeqLen, c = a.HiddenSize, l = a.SeqLen;
        long total = (long)examples * maxSteps * t * c;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException(
                $"{examples} examples x {maxSteps} segments x {t} positions x {c} = {total:N0} values per state is " +
                $"more than one array holds ({Array.MaxLength:N0}); use fewer --examples");
        }
        batch = Math.Min(batch, examples);
        model.Reserve(batch, training: false);
        var zH = new float[total];
        var zL = new float[total];
        var tokens = new int[batch * l];
        var ids = new int[batch];
        var labels = new int[l];
        var carryH = new float[batch * t * c];   // (B, T, C)
        var carryL = new float[batch * t * c];   // (B, T, C)
        int step = t * c;
        for (int start = 0; start < examples; start += batch)
        {
            int rows = Math.Min(batch, examples - start);
            Array.Fill(tokens, data.Metadata.PadId);
            Array.Fill(ids, data.Metadata.BlankIdentifierId);
            for (int r = 0; r < rows; r++)
            {
                data.ReadExample(start + r, tokens.AsSpan(r * l, l), labels);
                ids[r] = Evaluator.PuzzleOf(data, start + r);
            }
            ActRunner.RunSegments(model, tokens, ids, maxSteps, (segment, _) =>
            {
                model.ReadCarry(carryH, carryL);
                for (int r = 0; r < rows; r++)
                {
                    long dst = ((long)(start + r) * maxSteps + segment - 1) * step;
                    carryH.AsSpan(r * step, step).CopyTo(zH.AsSpan((int)dst, step));
                    carryL.AsSpan(r * step, step).CopyTo(zL.AsSpan((int)dst, step));
                }
            });
        }
        return new CarryTrajectories(zH, zL, examples, maxSteps, t, c);
    }
}
