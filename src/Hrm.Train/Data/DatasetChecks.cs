namespace Hrm.Train.Data;

/// <summary>
/// The structural invariants of a split, shared by the reader (which reports a broken file) and the writer
/// (which refuses bad arguments). Each returns a description of the first violation, or null.
/// </summary>
internal static class DatasetChecks
{
    /// <summary>puzzle_indices: puzzles + 1 entries, starts at 0, non-decreasing, ends at the example count.</summary>
    public static string? PuzzleIndices(ReadOnlySpan<int> idx, int puzzles, long examples)
    {
        if (idx.Length != puzzles + 1)
        {
            return $"has {idx.Length} entries; expected {puzzles + 1} (one more than the {puzzles} entries of " +
                "puzzle_identifiers)";
        }
        return Boundaries(idx, examples, "examples (the rows of inputs)");
    }

    /// <summary>group_indices: at least one entry, starts at 0, increasing (every group has a puzzle: training draws
    /// one from each), ends at the puzzle count.</summary>
    public static string? GroupIndices(ReadOnlySpan<int> idx, int puzzles)
    {
        if (idx.IsEmpty) return "is empty; expected at least [0]";
        if (Boundaries(idx, puzzles, "puzzles") is { } problem) return problem;
        for (int i = 1; i < idx.Length; i++)
        {
            if (idx[i] == idx[i - 1])
                return $"entries {i - 1} and {i} are both {idx[i]}: group {i - 1} has no puzzle (each group needs one)";
        }
        return null;
    }

    /// <summary>puzzle_identifiers: every entry in [0, count).</summary>
    public static string? PuzzleIdentifiers(ReadOnlySpan<int> ids, int count)
    {
        int bad = ids.IndexOfAnyExceptInRange(0, count - 1);
        return bad < 0 ? null
            : $"entry {bad} is {ids[bad]}, outside [0, num_puzzle_identifiers={count}) (dataset.json)";
    }

    /// <summary>Tokens: every value in [0, vocab), except <paramref name="ignore"/> when given.</summary>
    public static string? Tokens(ReadOnlySpan<byte> values, int vocab, int? ignore, int seqLen, long firstValue)
    {
        if (vocab > byte.MaxValue) return null;
        int start = 0;
        while (true)
        {
            int bad = values[start..].IndexOfAnyInRange((byte)vocab, byte.MaxValue);
            if (bad < 0) return null;
            bad += start;
            if (ignore != values[bad]) return TokenError(values[bad], vocab, seqLen, firstValue + bad);
            start = bad + 1;
        }
    }

    /// <summary>Tokens: every value in [0, vocab), except <paramref name="ignore"/> when given.</summary>
    public static string? Tokens(ReadOnlySpan<int> values, int vocab, int? ignore, int seqLen, long firstValue)
    {
        int start = 0;
        while (true)
        {
            int bad = values[start..].IndexOfAnyExceptInRange(0, vocab - 1);
            if (bad < 0) return null;
            bad += start;
            if (ignore != values[bad]) return TokenError(values[bad], vocab, seqLen, firstValue + bad);
            start = bad + 1;
        }
    }

    private static string TokenError(int value, int vocab, int seqLen, long index) =>
        $"value {value} at example {index / seqLen}, position {index % seqLen} is outside [0, vocab_size={vocab}) " +
        "(dataset.json)";

    private static string? Boundaries(ReadOnlySpan<int> idx, long end, string what)
    {
        if (idx[0] != 0) return $"starts at {idx[0]}; expected 0";
        for (int i = 1; i < idx.Length; i++)
        {
            if (idx[i] < idx[i - 1])
                return $"decreases at entry {i} ({idx[i - 1]} then {idx[i]}); must be non-decreasing";
        }
        return idx[^1] == end ? null : $"ends at {idx[^1]}; expected {end}, the number of {what}";
    }
}
