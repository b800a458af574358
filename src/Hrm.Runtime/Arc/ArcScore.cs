namespace Hrm.Runtime.Arc;

/// <summary>pass@k over tasks.</summary>
/// <param name="Ks">The k values.</param>
/// <param name="Solved">Tasks solved at each k (every test input's label among its top k).</param>
/// <param name="Tasks">Tasks with at least one labelled test input.</param>
/// <param name="Rows">Rows added.</param>
/// <param name="UnmatchedRows">Rows whose name was malformed or whose de-augmented input matched no labelled
/// input.</param>
public sealed record ArcScore(IReadOnlyList<int> Ks, IReadOnlyList<int> Solved, int Tasks, long Rows,
    long UnmatchedRows)
{
    /// <summary>pass@Ks[i] as a fraction of <see cref="Tasks"/>.</summary>
    /// <param name="i">Index into Ks.</param>
    /// <returns>Solved / Tasks (0 without tasks).</returns>
    public double Rate(int i) => Tasks == 0 ? 0 : (double)Solved[i] / Tasks;
}
