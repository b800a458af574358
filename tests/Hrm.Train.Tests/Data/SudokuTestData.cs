using Hrm.Runtime.Puzzles;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Data;

/// <summary>Known puzzles with their solutions.</summary>
internal static class SudokuTestData
{
    /// <summary>Wikipedia's example puzzle; solved by singles alone.</summary>
    public const string Easy = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79";

    public const string EasySolution = "534678912672195348198342567859761423426853791713924856961537284287419635345286179";

    /// <summary>Arto Inkala's "world's hardest Sudoku".</summary>
    public const string Hard = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..";

    public const string HardSolution = "812753649943682175675491283154237896369845721287169534521974368438526917796318452";

    /// <summary>A 17-clue-class hard puzzle.</summary>
    public const string Hard2 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......";

    public const string Hard2Solution = "417369825632158947958724316825437169791586432346912758289643571573291684164875293";

    public static byte[] Digits(string s) => SudokuText.Parse(s);

    public static SudokuRecord Record(string puzzle, string solution, int rating = 0, string source = "test") =>
        new(Digits(puzzle), Digits(solution), rating, source);
}
