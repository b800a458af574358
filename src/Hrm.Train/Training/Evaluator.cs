using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;
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
    public static IReadOnlyDictionary<string, double> Run(HrmModel model, PuzzleDataset test, int maxSteps,
        LossType lossType, EvalOutputs? outputs = null, EvalBatchObserver? observer = null)
    {
        HrmConfig a = model.Config;
        int b = model.Batch, l = a.SeqLen, v = a.VocabSize;
        if (test.SeqLen != l) throw new ArgumentException($"test split has seq_len {test.SeqLen}, the model {l}");
        var tokens = new int[b * l];
        var labels = new int[b * l];
        var ids = new int[b];
        var logits = new float[b * l * v];
        using var loss = new BackendLoss(model.Backend, b, l, v, lossType);
        var rowIn = new int[l];
        var rowLabel = new int[l];
        var metrics = new HrmMetrics();
        int pad = test.Metadata.PadId, blank = test.Metadata.BlankIdentifierId;
        int n = test.ExampleCount;
        for (int start = 0; start < n; start += b)
        {
            int rows = Math.Min(b, n - start);
            Array.Fill(tokens, pad);
            Array.Fill(labels, -100);
            Array.Fill(ids, blank);
            for (int r = 0; r < rows; r++)
            {
                test.ReadExample(start + r, rowIn, rowLabel);
                rowIn.CopyTo(tokens, r * l);
                rowLabel.CopyTo(labels, r * l);
                ids[r] = PuzzleOf(test, start + r);
            }
            ActState s = model.Evaluate(tokens, ids, maxSteps);
            labels.CopyTo(s.Labels, 0);
            model.ReadLogits(logits); // argmax outputs for the observer and hrm predict
            LossParts parts = loss.Compute(model.Ws.Logits, labels, model.Ws.Q, default, training: false,
                globalBatch: b, Buf.Empty, Buf.Empty);
            metrics.Add(s.Halted, s.Steps, s.QHalt, loss.Rows.ValidCounts, loss.Rows.CorrectCounts, parts);
            observer?.Invoke(start, rows, logits.AsSpan(0, rows * l * v), s.QHalt.AsSpan(0, rows));
            if (outputs == null) continue;
            logits.AsSpan(0, rows * l * v).CopyTo(outputs.Logits.AsSpan(start * l * v));
            s.QHalt.AsSpan(0, rows).CopyTo(outputs.QHalt.AsSpan(start));
            s.QContinue.AsSpan(0, rows).CopyTo(outputs.QContinue.AsSpan(start));
        }
        return metrics.Report(train: false, b);
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
