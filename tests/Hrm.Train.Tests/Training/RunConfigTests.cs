using Hrm.Runtime.Config;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public class RunConfigTests
{
    [Fact]
    public void Reference_presets_carry_the_reference_numbers()
    {
        RunConfig s = RunPresets.Get("sudoku-extreme-1k");
        Assert.Equal((768, 20000, 2000, 1e-4, 1e-4, 1.0, 1.0, 2000, 0.9, 0.95), (s.GlobalBatchSize, s.Epochs, s.EvalInterval,
            s.Lr, s.PuzzleEmbLr, s.WeightDecay, s.PuzzleEmbWeightDecay, s.LrWarmupSteps, s.Beta1, s.Beta2));
        Assert.Equal(26_041, LrSchedule.TotalSteps(s.Epochs, 1000, 1.0, s.GlobalBatchSize));
        foreach (string name in RunPresets.Names) RunPresets.Get(name).Validate();
    }

    [Fact]
    public void Set_overrides_reach_training_and_arch_keys_and_are_validated()
    {
        string json = RunConfigJson.Serialize(RunPresets.Get("sudoku-tiny"));
        RunConfig c = RunConfigJson.Parse(json, ["lr=0.5", "hidden_size=64", "arch.num_heads=4", "data_path=x"], [], "t");
        Assert.Equal((0.5, 64, 4, "x"), (c.Lr, c.Arch.HiddenSize, c.Arch.NumHeads, c.DataPath));
        Assert.Equal("global_batch_sise", Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(json, ["global_batch_sise=3"], [], "t")).Field);
        Assert.Equal("eval_interval", Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(json, ["eval_interval=3"], [], "t")).Field);
        Assert.Equal("num_heads", Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(json, ["num_heads=5"], [], "t")).Field);
    }

    [Fact]
    public void Round_trip_and_ignored_reference_keys()
    {
        RunConfig a = RunPresets.Get("sudoku-quickstart");
        Assert.Equal(a, RunConfigJson.Parse(RunConfigJson.Serialize(a), [], [], "t"));
        var warnings = new List<string>();
        RunConfigJson.Parse("""{"arch": {}, "project_name": "p", "run_name": "r"}""", [], warnings, "t");
        Assert.Equal(2, warnings.Count);
    }
}
