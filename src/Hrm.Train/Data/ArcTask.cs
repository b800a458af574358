namespace Hrm.Train.Data;

/// <summary>
/// One ARC task file: its demonstration ("train") pairs and test pairs (spec 5.4).
/// </summary>
/// <param name="Id">The task id: the file's optional "name", else the file name without ".json".</param>
/// <param name="Path">The file it was read from.</param>
/// <param name="IsEvaluation">Whether it sits in a folder named "evaluation", whose test pairs go to the test split.
/// </param>
/// <param name="Train">Demonstration pairs (at least one).</param>
/// <param name="Test">Test pairs (at least one).</param>
public sealed record ArcTask(string Id, string Path, bool IsEvaluation, IReadOnlyList<ArcPair> Train,
    IReadOnlyList<ArcPair> Test)
{
    /// <summary>Train pairs then test pairs: the pairs that augmentation transforms and hashes together.</summary>
    public IEnumerable<ArcPair> AllPairs => Train.Concat(Test);
}
