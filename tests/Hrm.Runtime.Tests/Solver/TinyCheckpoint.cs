using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Tests.Model;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>
/// A randomly initialised checkpoint of a tiny 4x4-Sudoku-shaped config (seq_len 16, vocab 6, C=16) in a temporary
/// directory. The Q head is random too (<see cref="ModelFixtures.RandomizeAll"/>), so adaptive halting stops rows
/// after different numbers of segments.
/// </summary>
public sealed class TinyCheckpoint : IDisposable
{
    /// <summary>A 6x6 maze with one S and one G (walls '#', open ' ') that the solver tests share.</summary>
    public const string Maze6 =
        "S #   \n" +
        "  # # \n" +
        " ## # \n" +
        "    #G\n" +
        "###   \n" +
        "   #  \n";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-solver-");

    public TinyCheckpoint(int seed = 5, HrmConfig? config = null)
    {
        Config = config ?? Sudoku4();
        Path = System.IO.Path.Combine(_dir.FullName, "model.safetensors");
        using var model = new HrmModel(Config, new CpuBackend(2));
        ModelFixtures.RandomizeAll(model, seed);
        HrmCheckpoint.Save(model, Path);
    }

    public HrmConfig Config { get; }

    public string Path { get; }

    /// <summary>4x4 Sudoku shape: 16 cells, tokens 0..5 (pad, blank, digits 1..4).</summary>
    public static HrmConfig Sudoku4() => new()
    {
        HiddenSize = 16, NumHeads = 2, Expansion = 2, HCycles = 1, LCycles = 2, HLayers = 1, LLayers = 1,
        HaltMaxSteps = 4, PuzzleEmbNdim = 16, VocabSize = 6, SeqLen = 16, NumPuzzleIdentifiers = 3,
    };

    /// <summary>A model on the CPU backend loaded from the checkpoint, reserved for <paramref name="batch"/> rows.</summary>
    public HrmModel LoadModel(int batch)
    {
        HrmModel m = HrmCheckpoint.Load(Path, new CpuBackend(2));
        m.Reserve(batch, training: false);
        return m;
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
