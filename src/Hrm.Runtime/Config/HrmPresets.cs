namespace Hrm.Runtime.Config;

/// <summary>Named architectures: the reference's three task configs and small ones for tests and CPUs.</summary>
public static class HrmPresets
{
    /// <summary>Names accepted by <see cref="Get"/>.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["sudoku-extreme-1k", "maze-30x30-hard-1k", "arc-1", "arc-2", "tiny"];

    /// <summary>
    /// The architecture called <paramref name="name"/> for a checkpoint that carries none (the reference's released
    /// <c>checkpoint</c> files, whose folders do not always hold the run's all_config.yaml): num_puzzle_identifiers is
    /// the rows of the checkpoint's puzzle table (1 without one), which the dataset's build decides. Pass it as
    /// <c>SolverOptions.Config</c> or to <c>HrmCheckpoint.Load</c>; loading then checks every tensor against it.
    /// </summary>
    /// <exception cref="HrmConfigException">An unknown name.</exception>
    /// <exception cref="Formats.HrmFormatException">The checkpoint cannot be read, or its puzzle table is not a table.</exception>
    public static HrmConfig ForCheckpoint(string name, string checkpointPath) => Get(name) with
    {
        NumPuzzleIdentifiers = Model.HrmCheckpoint.TableRows(checkpointPath, Memory.ParameterLayout.Names.PuzzleEmb) ?? 1,
    };

    /// <summary>The architecture called <paramref name="name"/>; throws listing the known names otherwise.</summary>
    public static HrmConfig Get(string name) => name switch
    {
        // hrm_v1 defaults with the Sudoku-Extreme data: V=11, L=81, one shared puzzle id.
        "sudoku-extreme-1k" => new HrmConfig(),
        "maze-30x30-hard-1k" => new HrmConfig { VocabSize = 6, SeqLen = 900 },
        // ARC ids: 960 tasks x 1001 views + blank (ARC-1); 1120 x 1001 + 1 (ARC-2), spec 1.3.
        "arc-1" => new HrmConfig { VocabSize = 12, SeqLen = 900, NumPuzzleIdentifiers = 960 * 1001 + 1 },
        "arc-2" => new HrmConfig { VocabSize = 12, SeqLen = 900, NumPuzzleIdentifiers = 1120 * 1001 + 1 },
        "tiny" => new HrmConfig
        {
            HiddenSize = 64, NumHeads = 4, HLayers = 2, LLayers = 2, HaltMaxSteps = 4,
            PuzzleEmbNdim = 64, VocabSize = 11, SeqLen = 81,
        },
        _ => throw new HrmConfigException($"unknown preset '{name}'; known presets: {string.Join(", ", Names)}"),
    };
}
