using Hrm.Runtime.Numerics;
using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>Small 4x4 Sudoku datasets and a tiny run config for trainer tests.</summary>
public static class TrainingFixtures
{
    public static string Build4x4(string dir, int train = 96, int test = 32, int numAug = 1, ulong seed = 3)
    {
        var opts = new SudokuGeneratorOptions { Size = 4, MinGivens = 8, MaxGivens = 10, Seed = seed, Threads = 2 };
        SudokuRecord[] tr = SudokuGenerator.Generate(train, opts);
        SudokuRecord[] te = SudokuGenerator.Generate(test, opts with { Seed = seed + 1000 });
        SudokuDatasetBuilder.Build(dir, tr, te, numAug, new HrmRandom(seed));
        return dir;
    }

    public static RunConfig Tiny(string data) => RunPresets.Get("sudoku-tiny") with
    {
        DataPath = data, GlobalBatchSize = 16, Epochs = 4, EvalInterval = 2, Threads = 2, Seed = 7,
    };
}
