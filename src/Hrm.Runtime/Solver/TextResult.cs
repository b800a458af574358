namespace Hrm.Runtime.Solver;

/// <summary>
/// The model's answer to a <see cref="TextPuzzle"/>: the symbols it wrote up to its end marker. Valid means well formed
/// (at least one symbol, and no padding token before the end); whether the answer is right is for your task to say
/// (compare it with what you expect).
/// </summary>
public sealed class TextResult : SolveResult
{
    private TextResult(TextPuzzle puzzle, string answer, TokenPrediction prediction, string? problem)
        : base(prediction, problem)
    {
        Puzzle = puzzle;
        Answer = answer;
    }

    /// <summary>The input that was solved.</summary>
    public TextPuzzle Puzzle { get; }

    /// <summary>The model's text ('?' where it wrote a token that is not a symbol).</summary>
    public string Answer { get; }

    /// <summary>Decodes a prediction with the puzzle's alphabet.</summary>
    internal static TextResult From(TextPuzzle puzzle, TokenPrediction prediction)
    {
        string answer = puzzle.Alphabet.Decode(prediction.Tokens, out string? problem);
        return new TextResult(puzzle, answer, prediction, problem);
    }
}
