namespace Hrm.Runtime.Solver;

/// <summary>
/// An input of a task of your own: a text of an alphabet's symbols, at most a row long (see
/// <see cref="TextAlphabet"/>). <see cref="HrmSolver.Solve(TextPuzzle)"/> answers it with a checkpoint trained on a
/// dataset of that alphabet (<c>hrm data pairs</c>).
/// </summary>
public sealed class TextPuzzle
{
    private readonly int[] _tokens;   // (seq_len) the row: symbols, end marker, padding

    private TextPuzzle(string text, TextAlphabet alphabet, int[] tokens, int puzzleIdentifier)
    {
        Text = text;
        Alphabet = alphabet;
        _tokens = tokens;
        PuzzleIdentifier = puzzleIdentifier;
    }

    /// <summary>The input text.</summary>
    public string Text { get; }

    /// <summary>The alphabet it is written in.</summary>
    public TextAlphabet Alphabet { get; }

    /// <summary>The puzzle identifier whose embedding the model sees with it: 0 (blank) unless the dataset gave each
    /// group its own (<c>hrm data pairs --puzzle-ids</c>; the name's index in <c>identifiers.json</c>).</summary>
    public int PuzzleIdentifier { get; }

    /// <summary>Checks and encodes <paramref name="text"/>.</summary>
    /// <param name="text">The input.</param>
    /// <param name="alphabet">Its alphabet.</param>
    /// <param name="puzzleIdentifier">See <see cref="PuzzleIdentifier"/>.</param>
    /// <exception cref="PuzzleFormatException">Empty, longer than the alphabet's rows, or a character that is not one
    /// of its symbols (named with its position).</exception>
    public static TextPuzzle Parse(string text, TextAlphabet alphabet, int puzzleIdentifier = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(alphabet);
        ArgumentOutOfRangeException.ThrowIfNegative(puzzleIdentifier);
        return new TextPuzzle(text, alphabet, alphabet.Encode(text), puzzleIdentifier);
    }

    /// <summary>The text.</summary>
    public override string ToString() => Text;

    /// <summary>The model's input row (a copy).</summary>
    internal int[] ToTokens() => (int[])_tokens.Clone();
}
