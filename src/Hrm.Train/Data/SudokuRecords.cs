using Hrm.Runtime.Numerics;

namespace Hrm.Train.Data;

/// <summary>The reference builder's import options as plain functions (spec 5.2).</summary>
public static class SudokuRecords
{
    /// <summary><c>--min-difficulty</c>: keeps the records rated at least <paramref name="minRating"/>.</summary>
    /// <param name="records">The records.</param>
    /// <param name="minRating">The inclusive floor.</param>
    /// <returns>The kept records, in order.</returns>
    public static List<SudokuRecord> FilterMinRating(IEnumerable<SudokuRecord> records, int minRating)
    {
        ArgumentNullException.ThrowIfNull(records);
        return [.. records.Where(r => r.Rating >= minRating)];
    }

    /// <summary>
    /// <c>--subsample-size</c>: <paramref name="n"/> records chosen without replacement, in the order drawn
    /// (like <c>np.random.choice(len, n, replace=False)</c>, but seeded). When n is not below the count, all
    /// records are returned in their original order, as the reference does.
    /// </summary>
    /// <param name="records">The records.</param>
    /// <param name="n">How many to keep.</param>
    /// <param name="rng">The randomness.</param>
    /// <returns>The sample.</returns>
    public static List<SudokuRecord> Subsample(IReadOnlyList<SudokuRecord> records, int n, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n >= records.Count) return [.. records];
        int[] index = new int[records.Count];
        for (int i = 0; i < index.Length; i++) index[i] = i;
        var result = new List<SudokuRecord>(n);
        for (int i = 0; i < n; i++)
        {
            int j = rng.NextInt(i, index.Length);
            (index[i], index[j]) = (index[j], index[i]);
            result.Add(records[index[i]]);
        }
        return result;
    }
}
