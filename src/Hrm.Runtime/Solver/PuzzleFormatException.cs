namespace Hrm.Runtime.Solver;

/// <summary>
/// A puzzle's text could not be read: the message says what was wrong and where (cell, row, column, character)
/// and what was expected. <see cref="Row"/> and <see cref="Column"/> locate the offending cell when there is one.
/// </summary>
public sealed class PuzzleFormatException : FormatException
{
    /// <summary>An error without a cell position.</summary>
    public PuzzleFormatException(string message)
        : base(message)
    {
    }

    /// <summary>An error at a cell.</summary>
    /// <param name="message">What was wrong and where.</param>
    /// <param name="row">1-based row of the offending cell.</param>
    /// <param name="column">1-based column of the offending cell.</param>
    public PuzzleFormatException(string message, int row, int column)
        : base(message)
    {
        Row = row;
        Column = column;
    }

    /// <summary>An error wrapping another (e.g. naming the file a puzzle came from).</summary>
    public PuzzleFormatException(string message, Exception inner)
        : base(message, inner)
    {
        if (inner is PuzzleFormatException p)
        {
            Row = p.Row;
            Column = p.Column;
        }
    }

    /// <summary>Creates an error without a message (serialisation and tooling).</summary>
    public PuzzleFormatException()
    {
    }

    /// <summary>1-based row of the offending cell, or null when the error is not about one cell.</summary>
    public int? Row { get; }

    /// <summary>1-based column of the offending cell, or null when the error is not about one cell.</summary>
    public int? Column { get; }
}
