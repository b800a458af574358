using Hrm.Runtime.Arc;

namespace Hrm.Runtime.Solver;

public sealed partial class HrmSolver
{
    private ArcTaskSolver? _arc;

    /// <summary>
    /// Solves an ARC task the way the ARC evaluation scores it: every test input under every view of the task the
    /// model was trained with (from the <c>identifiers.json</c> that <c>hrm train</c> copies next to each checkpoint,
    /// see <see cref="ArcIdentifiers.FindFor"/>), predictions cropped, de-augmented and voted; the top
    /// <see cref="ArcTaskSolver.Attempts"/> candidates per test input are the answer. All rows of the task go through
    /// this solver's scheduler (batch slots, halting) like any other puzzle.
    /// </summary>
    /// <exception cref="Formats.HrmFormatException">The checkpoint has no (valid) identifiers.json next to it, or it
    /// belongs to another dataset (its count differs from the model's num_puzzle_identifiers).</exception>
    /// <exception cref="ArcTaskNotTrainedException">The model was never trained on this task (an HRM for ARC learns
    /// one puzzle embedding per view of each task, so it cannot solve unseen tasks).</exception>
    public ArcTaskSolution Solve(ArcTask task) => Solve(task, CancellationToken.None);

    /// <summary><see cref="Solve(ArcTask)"/> on the thread pool; cancelling stops the task's rows at the next segment.</summary>
    public Task<ArcTaskSolution> SolveAsync(ArcTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return Task.Run(() => Solve(task, cancellationToken), cancellationToken);
    }

    private ArcTaskSolution Solve(ArcTask task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Config.SeqLen != ArcEncoding.SeqLen || Config.VocabSize != ArcEncoding.VocabSize)
        {
            throw new InvalidOperationException(
                $"the checkpoint is not an ARC model (seq_len {Config.SeqLen}, vocab_size {Config.VocabSize}); " +
                $"expected {ArcEncoding.SeqLen} and {ArcEncoding.VocabSize}");
        }
        return ArcSolver().Solve(task, (tokens, ids) =>
        {
            TokenPrediction[] rows = PredictAsync(tokens, ids, cancellationToken).GetAwaiter().GetResult();
            int l = ArcEncoding.SeqLen;
            var predicted = new int[rows.Length * l];   // (N, 900)
            var qHalt = new float[rows.Length];          // (N)
            for (int r = 0; r < rows.Length; r++)
            {
                rows[r].Tokens.CopyTo(predicted, r * l);
                qHalt[r] = rows[r].QHaltLogit;
            }
            return (predicted, qHalt);
        });
    }

    private ArcTaskSolver ArcSolver()
    {
        if (Volatile.Read(ref _arc) is { } ready) return ready;
        ArcIdentifiers ids = ArcIdentifiers.FindFor(CheckpointPath);
        ids.CheckMatches(Config.NumPuzzleIdentifiers);
        Interlocked.CompareExchange(ref _arc, new ArcTaskSolver(ids), null);
        return _arc!;
    }
}
