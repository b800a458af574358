using System.Numerics;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Puzzles;

namespace Hrm.Train.Data;

/// <summary>
/// A bitboard backtracking Sudoku solver for n x n boards (n in {4, 6, 9}): one n*n-bit board of possible
/// positions per digit, constraint propagation to the fixed point of naked singles and hidden singles, and
/// minimum-remaining-values branching. Not thread-safe: use one instance per thread; after construction it
/// does not allocate.
/// </summary>
/// <remarks>
/// <para><b>Rating (difficulty)</b>: the search is fully deterministic. After propagating to the fixed point
/// (no naked or hidden single left), it branches on the empty cell with the fewest candidates (lowest cell
/// index, row-major, on ties) and tries its candidates in ascending digit order. Every candidate value it
/// tries at such a branch cell (which always has 2 or more candidates) is one <i>guess</i>, whether it leads
/// to a solution or to a contradiction. The rating is the number of guesses made until the first solution is
/// found. A puzzle solved by propagation alone rates 0; one branch whose first value is right rates 1; a
/// first value that fails and a second that succeeds rates 2 plus the guesses made inside the failed subtree.
/// Counting further solutions (for the uniqueness check) does not change the rating.</para>
/// </remarks>
public sealed class SudokuSolver
{
    private readonly SudokuGeometry _g;
    private readonly int _stride;
    private readonly UInt128[] _st;
    private readonly byte[] _first;
    private int _limit;
    private int _solutions;
    private int _guesses;
    private int _rating;
    private HrmRandom? _rng;

    /// <summary>Creates a solver for n x n boards.</summary>
    /// <param name="n">4, 6 or 9.</param>
    public SudokuSolver(int n = 9)
    {
        _g = SudokuGeometry.For(n);
        // Per search level: slot 0 = unsolved cells, slot d = cells where digit d is still possible.
        _stride = n + 1;
        _st = new UInt128[(_g.Cells + 2) * _stride];
        _first = new byte[_g.Cells];
    }

    /// <summary>The board side n.</summary>
    public int Size => _g.N;

    /// <summary>All guesses made by the last call (the whole tree explored, not just to the first solution).</summary>
    internal int LastTotalGuesses => _guesses;

    /// <summary>
    /// Solves <paramref name="puzzle"/> (digits 0..n, 0 = blank, row-major), counting solutions up to
    /// <paramref name="solutionLimit"/> and rating the puzzle.
    /// </summary>
    /// <param name="puzzle">n*n digits.</param>
    /// <param name="solution">
    /// Receives the first solution (n*n digits); untouched when there is none. May be empty.
    /// </param>
    /// <param name="solutionLimit">Stop after this many solutions (2 decides uniqueness).</param>
    /// <returns>The solution count (capped) and the rating.</returns>
    /// <exception cref="ArgumentException">Wrong length or a digit above n.</exception>
    public SudokuSolveResult Solve(ReadOnlySpan<byte> puzzle, Span<byte> solution, int solutionLimit = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(solutionLimit, 1);
        if (!solution.IsEmpty && solution.Length != _g.Cells)
            throw new ArgumentException($"solution needs {_g.Cells} cells, got {solution.Length}", nameof(solution));
        Run(puzzle, solutionLimit, null, -1, 0);
        if (_solutions > 0 && !solution.IsEmpty) _first.CopyTo(solution);
        return new SudokuSolveResult(_solutions, _solutions > 0 ? _rating : _guesses);
    }

    /// <summary>Counts the solutions of <paramref name="puzzle"/> up to <paramref name="limit"/>.</summary>
    /// <param name="puzzle">n*n digits, 0 = blank.</param>
    /// <param name="limit">The cap.</param>
    /// <returns>min(solutions, limit).</returns>
    public int CountSolutions(ReadOnlySpan<byte> puzzle, int limit = 2) => Solve(puzzle, [], limit).SolutionCount;

    /// <summary>The rating of <paramref name="puzzle"/> (guesses to the first solution; see the remarks).</summary>
    /// <param name="puzzle">n*n digits, 0 = blank.</param>
    /// <returns>The rating.</returns>
    public int Rate(ReadOnlySpan<byte> puzzle) => Solve(puzzle, [], 1).Rating;

    /// <summary>
    /// Completes <paramref name="grid"/> (0 = blank) to a random solution, trying candidates in an order drawn
    /// from <paramref name="rng"/>. An all-blank grid yields a random full board.
    /// </summary>
    /// <param name="grid">n*n digits, filled in place.</param>
    /// <param name="rng">The randomness.</param>
    /// <returns>False (grid untouched) when the givens admit no solution.</returns>
    public bool FillRandom(Span<byte> grid, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Run(grid, 1, rng, -1, 0);
        if (_solutions == 0) return false;
        _first.CopyTo(grid);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="puzzle"/> has a solution in which <paramref name="cell"/> (blank in the puzzle)
    /// does not hold <paramref name="digit"/>. With digit = the known solution's value this decides, faster than
    /// counting to 2, whether blanking that cell keeps the solution unique.
    /// </summary>
    internal bool HasSolutionWithout(ReadOnlySpan<byte> puzzle, int cell, int digit)
    {
        Run(puzzle, 1, null, cell, digit);
        return _solutions > 0;
    }

    private void Run(ReadOnlySpan<byte> puzzle, int limit, HrmRandom? rng, int excludeCell, int excludeDigit)
    {
        _limit = limit;
        _rng = rng;
        _solutions = 0;
        _guesses = 0;
        _rating = 0;
        try
        {
            if (Load(puzzle, excludeCell, excludeDigit)) Search(0);
        }
        finally
        {
            _rng = null;
        }
    }

    private bool Load(ReadOnlySpan<byte> puzzle, int excludeCell, int excludeDigit)
    {
        int n = _g.N;
        if (puzzle.Length != _g.Cells)
            throw new ArgumentException($"a {n}x{n} puzzle has {_g.Cells} cells, got {puzzle.Length}", nameof(puzzle));
        foreach (byte d in puzzle)
        {
            if (d > n)
                throw SudokuBoard.BadDigit(puzzle.IndexOf(d), d, n, nameof(puzzle));
        }
        Span<UInt128> s = _st.AsSpan(0, _stride);
        s.Fill(_g.AllCells);
        bool ok = true;
        for (int c = 0; c < puzzle.Length && ok; c++)
        {
            if (puzzle[c] != 0) ok = Assign(s, c, puzzle[c]);
        }
        if (excludeCell >= 0) s[excludeDigit] &= ~(UInt128.One << excludeCell);
        return ok;
    }

    /// <summary>Propagates level <paramref name="depth"/>, then branches. True = stop (limit reached).</summary>
    private bool Search(int depth)
    {
        Span<UInt128> s = _st.AsSpan(depth * _stride, _stride);
        if (!Propagate(s)) return false;
        if (s[0] == UInt128.Zero)
        {
            _solutions++;
            if (_solutions == 1)
            {
                _rating = _guesses;
                Extract(s, _first);
            }
            return _solutions >= _limit;
        }
        int cell = ChooseCell(s);
        UInt128 bit = UInt128.One << cell;
        Span<int> order = stackalloc int[_g.N];
        int count = 0;
        for (int d = 1; d <= _g.N; d++)
        {
            if ((s[d] & bit) != UInt128.Zero) order[count++] = d;
        }
        order = order[..count];
        if (_rng is not null)
        {
            for (int i = count - 1; i > 0; i--)
            {
                int j = _rng.NextInt(0, i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        }
        Span<UInt128> next = _st.AsSpan((depth + 1) * _stride, _stride);
        foreach (int d in order)
        {
            _guesses++;
            s.CopyTo(next);
            if (Assign(next, cell, d) && Search(depth + 1)) return true;
        }
        return false;
    }

    /// <summary>Places digit d at cell (which must still allow it). False on a contradiction.</summary>
    private bool Assign(Span<UInt128> s, int cell, int d)
    {
        UInt128 bit = UInt128.One << cell;
        if ((s[d] & bit) == UInt128.Zero) return false;
        UInt128 peers = _g.PeerMasks[cell];
        // A solved peer already holding d.
        if ((s[d] & peers & ~s[0]) != UInt128.Zero) return false;
        for (int e = 1; e < s.Length; e++) s[e] &= ~bit;
        s[d] = (s[d] & ~peers) | bit;
        s[0] &= ~bit;
        return true;
    }

    /// <summary>Places naked and hidden singles until none is left. False on a contradiction.</summary>
    private bool Propagate(Span<UInt128> s)
    {
        int n = _g.N;
        Span<UInt128> checkedPos = stackalloc UInt128[n + 1];
        checkedPos.Fill(UInt128.MaxValue);
        bool changed = true;
        while (changed)
        {
            changed = false;
            UInt128 once = UInt128.Zero, twice = UInt128.Zero;
            for (int d = 1; d <= n; d++)
            {
                twice |= once & s[d];
                once |= s[d];
            }
            if ((s[0] & ~once) != UInt128.Zero) return false;
            UInt128 singles = s[0] & ~twice;
            while (singles != UInt128.Zero)
            {
                int cell = (int)UInt128.TrailingZeroCount(singles);
                singles &= singles - UInt128.One;
                if (!AssignOnlyCandidate(s, cell)) return false;
                changed = true;
            }
            if (changed) continue;
            for (int d = 1; d <= n; d++)
            {
                if (s[d] == checkedPos[d]) continue;
                // Recorded before the scan: a placement during the scan changes s[d], so d is scanned again.
                checkedPos[d] = s[d];
                if (!HiddenSingles(s, d, ref changed)) return false;
            }
        }
        return true;
    }

    private bool AssignOnlyCandidate(Span<UInt128> s, int cell)
    {
        UInt128 bit = UInt128.One << cell;
        for (int d = 1; d < s.Length; d++)
        {
            if ((s[d] & bit) != UInt128.Zero) return Assign(s, cell, d);
        }
        return false;
    }

    /// <summary>Places every cell that is the only place for <paramref name="d"/> in some unit.</summary>
    private bool HiddenSingles(Span<UInt128> s, int d, ref bool changed)
    {
        UInt128[] units = _g.UnitMasks;
        for (int u = 0; u < units.Length; u++)
        {
            UInt128 m = s[d] & units[u];
            if (m == UInt128.Zero) return false;
            if ((m & (m - UInt128.One)) != UInt128.Zero || (m & s[0]) == UInt128.Zero) continue;
            if (!Assign(s, (int)UInt128.TrailingZeroCount(m), d)) return false;
            changed = true;
        }
        return true;
    }

    /// <summary>The unsolved cell with the fewest candidates, lowest index first.</summary>
    private static int ChooseCell(Span<UInt128> s)
    {
        UInt128 once = UInt128.Zero, twice = UInt128.Zero, thrice = UInt128.Zero;
        for (int d = 1; d < s.Length; d++)
        {
            UInt128 p = s[d] & s[0];
            thrice |= twice & p;
            twice |= once & p;
            once |= p;
        }
        UInt128 pairs = twice & ~thrice;
        if (pairs != UInt128.Zero) return (int)UInt128.TrailingZeroCount(pairs);
        int best = -1, bestCount = int.MaxValue;
        for (UInt128 u = s[0]; u != UInt128.Zero; u &= u - UInt128.One)
        {
            int cell = (int)UInt128.TrailingZeroCount(u);
            UInt128 bit = UInt128.One << cell;
            int count = 0;
            for (int d = 1; d < s.Length; d++)
            {
                if ((s[d] & bit) != UInt128.Zero) count++;
            }
            if (count < bestCount)
            {
                best = cell;
                bestCount = count;
            }
        }
        return best;
    }

    private static void Extract(Span<UInt128> s, byte[] grid)
    {
        for (int d = 1; d < s.Length; d++)
        {
            for (UInt128 m = s[d]; m != UInt128.Zero; m &= m - UInt128.One)
                grid[(int)UInt128.TrailingZeroCount(m)] = (byte)d;
        }
    }
}
