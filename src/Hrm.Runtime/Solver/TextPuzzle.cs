namespace Hrm.Runtime.Solver;

/// <summary>
/// An input of a task of your own: a text of an alphabet's symbols, at most a row long (see
/// <see cref="TextAlphabet"/>). <see cref="HrmSolver.Solve(TextPuzzle)"/> answers it with a checkpoint trained on a
/// dataset of that alphabet (<c>hrm data pairs</c>).
/// </summary>
public sealed class TextPuzzle
{
    private readonly int[] _tokens;   // (seq_len) the row: symbols, end marker, padding

    private TextPuzzle(string text, TextAlphabet alphabet, int[] tokens)
    {
        Text = text;
        Alphabet = alphabet;
        _tokens = tokens;
    }

    /// <summary>The input text.</summary>
    public string Text { get; }

    /// <summary>The alphabet it is written in.</summary>
    public TextAlphabet Alphabet { get; }

    /// <summary>Checks and encodes <paramref name="text"/>.</summary>
    /// <exception cref="PuzzleFormatException">Empty, longer than the alphabet's rows, or a character that is not one
    /// of its symbols (named with its position).</exception>
    public static TextPuzzle Parse(string text, TextAlphabet alphabet)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(alphabet);
        return new TextPuzzle(text, alphabet, alphabet.Encode(text));
    }

    /// <summary>The text.</summary>
    public override string ToString() => Text;

    /// <summary>The model's input row (a copy).</summary>
    internal int[] ToTokens() => (int[])_tokens.Clone();
}
