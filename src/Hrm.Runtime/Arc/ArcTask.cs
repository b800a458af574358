using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Arc;

/// <summary>
/// One ARC task: its demonstration ("train") pairs and test pairs (spec 5.4). Read one with <see cref="Load"/>
/// (a task file) or <see cref="Parse"/> (task JSON text).
/// </summary>
/// <param name="Id">The task id: the file's optional "name", else the file name without ".json". Solving looks its
/// views up by this id in the checkpoint's identifiers.json (<see cref="ArcIdentifiers"/>).</param>
/// <param name="Path">The file it was read from (the id for tasks parsed from text).</param>
/// <param name="IsEvaluation">When building a dataset: whether it sits in a folder named "evaluation", whose test
/// pairs go to the test split. False for tasks read with <see cref="Load"/> or <see cref="Parse"/>.</param>
/// <param name="Train">Demonstration pairs (at least one).</param>
/// <param name="Test">Test pairs (at least one).</param>
public sealed record ArcTask(string Id, string Path, bool IsEvaluation, IReadOnlyList<ArcPair> Train,
    IReadOnlyList<ArcPair> Test)
{
    /// <summary>Train pairs then test pairs: the pairs that augmentation transforms and hashes together.</summary>
    public IEnumerable<ArcPair> AllPairs => Train.Concat(Test);

    /// <summary>
    /// Reads an ARC task file (<c>{"train": [{"input": grid, "output": grid}, ...], "test": [...]}</c>, optional
    /// "name"; other keys are ignored). The id is the "name", else the file name without ".json".
    /// </summary>
    /// <param name="path">The .json file.</param>
    /// <returns>The task.</returns>
    /// <exception cref="HrmFormatException">The file cannot be read or is malformed; the message names the file and
    /// the field, e.g. <c>train[2].input[3]</c>.</exception>
    public static ArcTask Load(string path) => ArcTaskReader.Read(path, isEvaluation: false);

    /// <summary>Parses ARC task JSON (the layout of <see cref="Load"/>).</summary>
    /// <param name="json">The task JSON.</param>
    /// <param name="id">The task id when the JSON has no "name" (ARC file names are ids, e.g. "007bbfb7").</param>
    /// <returns>The task.</returns>
    /// <exception cref="HrmFormatException">The JSON is malformed; the message names the id and the field.</exception>
    public static ArcTask Parse(string json, string id)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(id);
        return ArcTaskReader.Parse(Encoding.UTF8.GetBytes(json), id, id, isEvaluation: false);
    }
}
