using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Data;

/// <summary>
/// <c>root/identifiers.json</c>: the name of each puzzle identifier (index 0 = "&lt;blank&gt;"), read with the
/// runtime's <see cref="ArcIdentifiers.ReadNames"/>.
/// </summary>
public static class DatasetIdentifiers
{
    /// <summary>The name of identifier 0, used by padding rows.</summary>
    public const string Blank = ArcIdentifiers.Blank;

    /// <summary>Reads the identifier names of the dataset at <paramref name="root"/>.</summary>
    /// <param name="root">The dataset directory.</param>
    /// <returns>The names, or null when the file does not exist (only ARC needs names).</returns>
    /// <exception cref="HrmFormatException">The file is not a JSON list of strings.</exception>
    public static string[]? Read(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        string path = Path.Combine(root, DatasetLayout.IdentifiersFile);
        return File.Exists(path) ? ArcIdentifiers.ReadNames(path) : null;
    }

    /// <summary>
    /// <see cref="Read(string)"/>, checked against the split's <paramref name="numPuzzleIdentifiers"/> (dataset.json):
    /// the reference writes one name per identifier, so a different count means the file belongs to another build.
    /// </summary>
    /// <exception cref="HrmFormatException">The file is malformed, or lists another number of names.</exception>
    public static string[]? Read(string root, int numPuzzleIdentifiers)
    {
        string[]? names = Read(root);
        if (names != null && names.Length != numPuzzleIdentifiers)
        {
            throw new HrmFormatException(Path.Combine(root, DatasetLayout.IdentifiersFile), "identifiers",
                $"lists {names.Length} names, but dataset.json says num_puzzle_identifiers = {numPuzzleIdentifiers}: " +
                "one name per puzzle identifier was expected (are they from the same build of the data?)");
        }
        return names;
    }
}
