using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;
using Hrm.Train.Data;

namespace Hrm.Train.Training;

/// <summary>Per-row outputs of an evaluation, as <c>hrm predict</c> writes them.</summary>
public sealed class EvalOutputs(int n, int l, int v)
{
    public float[] Logits { get; } = new float[(long)n * l * v];  // (N, L, V)

    public float[] QHalt { get; } = new float[n];                  // (N)

    public float[] QContinue { get; } = new float[n];              // (N)
}

/// <summary>
/// Evaluation as the reference runs it (spec 6.1, 2.3): the test split in order, in chunks of the batch size, the
/// last chunk padded (pad inputs, ignored labels, blank puzzle id; padded rows have n_b = 0 and are excluded);
/// a fresh carry per chunk and exactly max-steps segments; metrics of the last segment over every row.
/// </summary>
public static class Evaluator
{
    /// <param name="model">The model, reserved for its batch size.</param>
    /// <param name="test">The split to evaluate.</param>
    /// <param name="maxSteps">Segments per chunk.</param>
    /// <param name="lossType">The LM loss.</param>
    /// <param name="outputs">Per-row outputs to fill, or null.</param>
    /// <param name="observer">Called after each chunk, or null.</param>
    /// <param name="loss">A loss of the model's batch, length and vocabulary to use (the trainer passes its own, so
    /// evaluating allocates nothing on the device), or null for one of its own.</param>
    /// <param name="examples">The examples to evaluate (indices, ascending; <see cref="Sample"/>), or null for every
    /// one. The observer's and the outputs' rows are then positions in this list, and the metrics gain
    /// <c>eval/examples</c>; the padding rows of the last chunk are left out of <c>q_halt_loss</c> (they are in it for a
    /// whole split, as in the reference), so that a sample's metrics do not depend on the batch size.</param>
    public static IReadOnlyDictionary<string, double> Run(HrmModel model, PuzzleDataset test, int maxSteps,
        LossType lossType, EvalOutputs? outputs = null, EvalBatchObserver? observer = null, BackendLoss? loss = null,
        int[]? examples = null)
    {
        HrmConfig a = model.Config;
        int b = model.Batch, l = a.SeqLen, v = a.VocabSize;
        if (test.SeqLen != l) throw new ArgumentException($"test split has seq_len {test.SeqLen}, the model {l}");
        var tokens = new int[b * l];
        var labels = new int[b * l];
        var ids = new int[b];
        var logits = new float[b * l * v];
        if (loss != null && (loss.Batch != b || loss.SeqLen != l || loss.Vocab != v || loss.Type != lossType))
        {
            throw new ArgumentException($"loss: made for B={loss.Batch}, L={loss.SeqLen}, V={loss.Vocab}, {loss.Type}; " +
                $"the evaluation needs B={b}, L={l}, V={v}, {lossType}", nameof(loss));
        }
        using BackendLoss? own = loss == null ? new BackendLoss(model.Backend, b, l, v, lossType) : null;
        BackendLoss lossOp = loss ?? own!;
        var rowIn = new int[l];
        var rowLabel = new int[l];
        var metrics = new HrmMetrics();
        int n = examples?.Length ?? test.ExampleCount;
        if (examples != null) CheckExamples(examples, test.ExampleCount);
        if (outputs != null && outputs.QHalt.Length != n)
            throw new ArgumentException($"outputs: made for {outputs.QHalt.Length} rows, the evaluation has {n}", nameof(outputs));
        for (int start = 0; start < n; start += b)
        {
            int rows = Math.Min(b, n - start);
            ReadChunk(test, examples, start, rows, tokens, labels, ids, rowIn, rowLabel);
            ActState s = model.Evaluate(tokens, ids, maxSteps);
            labels.CopyTo(s.Labels, 0);
            model.ReadLogits(logits); // argmax outputs for the observer and hrm predict
            LossParts parts = lossOp.Compute(model.Ws.Logits, labels, model.Ws.Q, default, training: false,
                globalBatch: b, Buf.Empty, Buf.Empty);
            if (examples != null)
            {
                // A padding row has no label, so it counts as solved and its q_halt BCE (target 1) enters the sum, as
                // in the reference's evaluation of a whole split (at most one batch of padding). A sample pays a
                // batch's worth per evaluation, which would make its q_halt_loss depend on the batch size: left out.
                // The real rows' own values, as the loss computed them: (B, 3) [lm, q_halt, q_continue] per row.
                ReadOnlySpan<double> rowLoss = lossOp.Rows.RowLoss;
                double qHalt = 0;
                for (int r = 0; r < rows; r++) qHalt += rowLoss[3 * r + 1];
                parts = parts with { QHaltLoss = qHalt };
            }
            metrics.Add(s.Halted, s.Steps, s.QHalt, lossOp.Rows.ValidCounts, lossOp.Rows.CorrectCounts, parts);
            observer?.Invoke(start, rows, logits.AsSpan(0, rows * l * v), s.QHalt.AsSpan(0, rows));
            if (outputs == null) continue;
            logits.AsSpan(0, rows * l * v).CopyTo(outputs.Logits.AsSpan(start * l * v));
            s.QHalt.AsSpan(0, rows).CopyTo(outputs.QHalt.AsSpan(start));
            s.QContinue.AsSpan(0, rows).CopyTo(outputs.QContinue.AsSpan(start));
        }
        Dictionary<string, double> report = metrics.Report(train: false, b);
        if (examples != null) report["eval/examples"] = n;
        return report;
    }

    /// <summary>Refuses an example list that is not ascending or names an example past the split's end.</summary>
    private static void CheckExamples(int[] examples, int count)
    {
        for (int i = 0; i < examples.Length; i++)
        {
            if ((uint)examples[i] >= (uint)count || (i > 0 && examples[i] <= examples[i - 1]))
            {
                throw new ArgumentException($"examples[{i}] = {examples[i]}: expected ascending indices below {count}",
                    nameof(examples));
            }
        }
    }

    /// <summary>tokens, labels (B, L) and ids (B) = the chunk's <paramref name="rows"/> examples from position
    /// <paramref name="start"/> (of <paramref name="examples"/>, or of the split), the rows past them padding (pad
    /// tokens, ignored labels, the blank identifier).</summary>
    private static void ReadChunk(PuzzleDataset test, int[]? examples, int start, int rows, int[] tokens, int[] labels,
        int[] ids, int[] rowIn, int[] rowLabel)
    {
        int l = rowIn.Length;
        Array.Fill(tokens, test.Metadata.PadId);
        Array.Fill(labels, -100);
        Array.Fill(ids, test.Metadata.BlankIdentifierId);
        for (int r = 0; r < rows; r++)
        {
            int example = examples?[start + r] ?? start + r;
            test.ReadExample(example, rowIn, rowLabel);
            rowIn.CopyTo(tokens, r * l);
            rowLabel.CopyTo(labels, r * l);
            ids[r] = PuzzleOf(test, example);
        }
    }

    /// <summary>
    /// <paramref name="count"/> of the <paramref name="total"/> examples, drawn uniformly without replacement from
    /// <paramref name="seed"/> and sorted: the same every time, so that evaluations of a run along the way compare.
    /// Null when <paramref name="count"/> is 0 or not below <paramref name="total"/> (every example).
    /// </summary>
    public static int[]? Sample(int total, int count, ulong seed)
    {
        if (count <= 0 || count >= total) return null;
        var all = new int[total];
        for (int i = 0; i < total; i++) all[i] = i;
        var rng = new HrmRandom(seed ^ 0x5EED_E7A1_0000_0001UL);
        for (int i = 0; i < count; i++)
        {
            int j = rng.NextInt(i, total);
            (all[i], all[j]) = (all[j], all[i]);
        }
        int[] chosen = all[..count];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>The puzzle identifier of an example (binary search over puzzle_indices).</summary>
    public static int PuzzleOf(PuzzleDataset ds, int example)
    {
        int lo = 0, hi = ds.PuzzleCount - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (ds.PuzzleIndices[mid] <= example) lo = mid;
            else hi = mid - 1;
        }
        return ds.PuzzleIdentifiers[lo];
    }
}
