using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Cli;

namespace Hrm.Train.Render;

/// <summary>A Sudoku run segment by segment for a picture (<see cref="SegmentTrace.Sudoku"/>).</summary>
/// <param name="N">Grid side.</param>
/// <param name="Givens">The puzzle's digits, 0 = blank (N·N).</param>
/// <param name="Answer">The model's digits after the last segment, 0 = none (N·N).</param>
/// <param name="Valid">Whether the answer is a complete Sudoku that keeps every given.</param>
/// <param name="Run">Every segment's prediction, stability, confidence and time.</param>
internal sealed record SudokuTrace(int N, byte[] Givens, byte[] Answer, bool Valid, ActRun Run)
{
    public int Segments => Run.Segments;

    public int StableSince => Run.StableSince;

    public double Confidence => Run.Confidence;

    public double Milliseconds => Run.Milliseconds;
}

/// <summary>A maze run segment by segment for a picture (<see cref="SegmentTrace.Maze"/>).</summary>
/// <param name="Puzzle">The maze (tokens).</param>
/// <param name="Predicted">The model's tokens (clamped to 0..5).</param>
/// <param name="Check">The predicted 'o' cells checked as a path.</param>
/// <param name="OtherChanges">Cells the model changed other than by marking an open cell 'o'.</param>
/// <param name="Run">Every segment's prediction, stability, confidence and time.</param>
internal sealed record MazeTrace(byte[] Puzzle, byte[] Predicted, MazePathCheck Check, int OtherChanges, ActRun Run);

/// <summary>
/// Evaluation-mode ACT on one puzzle through <see cref="ActRunner"/>, keeping the prediction after every segment (what
/// <c>hrm render</c> draws; <c>hrm solve</c> and the embeddable API use <see cref="HrmSolver"/>, which returns only the
/// last one). Both run the same <see cref="HrmModel.ActStep(ActState, ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool, Hrm.Runtime.Numerics.HrmRandom?, int)"/> with exactly max-steps segments, so the final answers agree.
/// </summary>
internal static class SegmentTrace
{
    public static SudokuTrace Sudoku(HrmModel model, SudokuGrid grid, int maxSteps)
    {
        HrmConfig a = model.Config;
        int n = grid.Size;
        if (a.SeqLen != n * n || a.VocabSize != n + 2)
        {
            throw new ArgumentException(
                $"the checkpoint is not a {n}x{n} Sudoku model (seq_len {a.SeqLen}, vocab_size {a.VocabSize}); expected {n * n} cells and {n + 2} tokens");
        }
        byte[] givens = grid.ToDigits();
        int[] tokens = [.. givens.Select(d => (int)d + SudokuBoard.BlankToken)];
        ActRun run = ActRunner.Run(model, tokens, maxSteps);
        byte[] digits = Digits(run.Predicted);
        bool valid = !digits.Contains((byte)0) && SudokuBoard.IsValidSolution(digits, givens);
        return new SudokuTrace(n, givens, digits, valid, run);
    }

    public static MazeTrace Maze(HrmModel model, byte[] puzzle, int maxSteps)
    {
        HrmConfig a = model.Config;
        if (a.SeqLen != puzzle.Length || a.VocabSize != MazeBoard.VocabSize)
        {
            throw new ArgumentException(
                $"the checkpoint takes {a.SeqLen} tokens of vocabulary {a.VocabSize}; a {MazeBoard.SideOf(puzzle.Length)}x" +
                $"{MazeBoard.SideOf(puzzle.Length)} maze needs {puzzle.Length} tokens of vocabulary {MazeBoard.VocabSize}");
        }
        ActRun run = ActRunner.Run(model, [.. puzzle.Select(t => (int)t)], maxSteps);
        byte[] predicted = [.. run.Predicted.Select(t => (byte)Math.Clamp(t, 0, MazeBoard.Path))];
        int other = 0;
        for (int i = 0; i < puzzle.Length; i++)
        {
            if (predicted[i] != puzzle[i] && !(predicted[i] == MazeBoard.Path && puzzle[i] == MazeBoard.Open)) other++;
        }
        return new MazeTrace(puzzle, predicted, MazePaths.Check(puzzle, predicted), other, run);
    }

    /// <summary>The digits of predicted tokens (token - 1; pad and blank predictions read as 0, an empty cell).</summary>
    public static byte[] Digits(int[] predicted) =>
        [.. predicted.Select(t => (byte)Math.Max(0, t - SudokuBoard.BlankToken))];
}
