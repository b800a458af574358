using System.Globalization;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>The outcome of <see cref="MazeSolver.Solve"/>.</summary>
/// <param name="Puzzle">The maze (tokens).</param>
/// <param name="Predicted">The model's tokens (clamped to 0..5).</param>
/// <param name="Check">The predicted 'o' cells checked as a path.</param>
/// <param name="OtherChanges">Cells the model changed other than by marking an open cell 'o'.</param>
/// <param name="Run">Segments, stability, confidence, time.</param>
internal sealed record MazeSolution(byte[] Puzzle, byte[] Predicted, MazePathCheck Check, int OtherChanges, ActRun Run);

/// <summary><c>hrm solve --maze</c>: one maze through a trained checkpoint, printed with the predicted path and checked.</summary>
internal static class MazeSolver
{
    /// <summary>Reads a maze file (<see cref="MazeBoard.ParseText"/>), naming the file in errors.</summary>
    public static byte[] ReadFile(string path)
    {
        try
        {
            return MazeBoard.ParseText(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Runs evaluation-mode ACT on the maze and checks the 'o' cells of the answer.</summary>
    public static MazeSolution Solve(HrmModel model, byte[] puzzle, int maxSteps)
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
        return new MazeSolution(puzzle, predicted, MazePaths.Check(puzzle, predicted), other, run);
    }

    public static void Print(TextWriter o, MazeSolution s)
    {
        byte[] overlay = (byte[])s.Puzzle.Clone();
        for (int i = 0; i < overlay.Length; i++)
        {
            if (s.Predicted[i] == MazeBoard.Path && overlay[i] == MazeBoard.Open) overlay[i] = MazeBoard.Path;
        }
        o.WriteLine("maze with the model's path (o):");
        o.WriteLine(MazeBoard.Format(overlay));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"segments: {s.Run.Segments} (answer unchanged since segment {s.Run.StableSince}); halting confidence {s.Run.Confidence:F3}; {s.Run.Milliseconds:F0} ms"));
        MazePathCheck c = s.Check;
        string shortest = c.Shortest < 0 ? "the goal is unreachable" : $"shortest {c.Shortest} moves";
        o.WriteLine(c.Valid
            ? $"valid path: connected, start to goal, open cells only; {c.Length} moves ({shortest}): {(c.IsShortest ? "shortest" : "NOT shortest")}"
            : $"NOT a valid path: {c.Problem} ({shortest})");
        if (s.OtherChanges > 0) o.WriteLine($"note: the model also changed {s.OtherChanges} cells that are not path cells");
    }
}
