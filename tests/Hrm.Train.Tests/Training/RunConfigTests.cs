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
        // eval_max_steps is bounded like halt_max_steps: a run must not fail at its first evaluation.
        var e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(json, ["eval_max_steps=1025"], [], "t"));
        Assert.Equal("eval_max_steps", e.Field);
        Assert.Contains("must lie in 0..1024", e.Message, StringComparison.Ordinal);
        Assert.Equal(1024, RunConfigJson.Parse(json, ["eval_max_steps=1024"], [], "t").EvalMaxSteps);
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

    [Fact]
    public void The_references_all_config_yaml_is_a_run_config_and_its_loss_type_counts()
    {
        const string yaml = """
            arch:
              H_cycles: 2
              H_layers: 4
              L_cycles: 2
              L_layers: 4
              expansion: 4
              halt_exploration_prob: 0.1
              halt_max_steps: 16
              hidden_size: 512
              loss:
                loss_type: softmax_cross_entropy
                name: losses@ACTLossHead
              name: hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1
              num_heads: 8
              pos_encodings: rope
              puzzle_emb_ndim: 512
            beta1: 0.9
            beta2: 0.95
            checkpoint_every_eval: true
            checkpoint_path: checkpoints/Sudoku-extreme-1k-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1
              loving-mongrel
            data_path: data/sudoku-extreme-1k-aug-1000
            epochs: 20000
            eval_interval: 2000
            eval_save_outputs: []
            global_batch_size: 768
            lr: 7.0e-05
            lr_min_ratio: 1.0
            lr_warmup_steps: 2000
            project_name: Sudoku-extreme-1k-aug-1000 ACT-torch
            puzzle_emb_lr: 7.0e-05
            puzzle_emb_weight_decay: 1.0
            run_name: HierarchicalReasoningModel_ACTV1 loving-mongrel
            seed: 0
            weight_decay: 1.0
            """;
        var warnings = new List<string>();
        RunConfig c = RunConfigJson.Parse(yaml, [], warnings, "all_config.yaml");
        Assert.Equal((768, 20000, 2000, 7e-5, 512, 16, "data/sudoku-extreme-1k-aug-1000", "softmax_cross_entropy"),
            (c.GlobalBatchSize, c.Epochs, c.EvalInterval, c.Lr, c.Arch.HiddenSize, c.Arch.HaltMaxSteps, c.DataPath,
             c.LossType));
        Assert.Equal(4, warnings.Count); // project_name, run_name, checkpoint_path, eval_save_outputs: not used

        // --set loss_type wins over the file's arch.loss.loss_type; a run config giving both must agree.
        Assert.Equal("stablemax_cross_entropy",
            RunConfigJson.Parse(yaml, ["loss_type=stablemax_cross_entropy"], [], "t").LossType);
        const string both =
            """{"arch": {"loss": {"loss_type": "softmax_cross_entropy"}}, "loss_type": "stablemax_cross_entropy"}""";
        var e = Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(both, [], [], "t"));
        Assert.Equal("loss_type", e.Field);
        Assert.Contains("disagrees with arch.loss.loss_type", e.Message, StringComparison.Ordinal);
        Assert.Equal("loss.loss_type", Assert.Throws<HrmConfigException>(() => RunConfigJson.Parse(
            yaml.Replace("softmax_cross_entropy", "focal", StringComparison.Ordinal), [], [], "t")).Field);

        // pretrain.py's eval_interval: null (Optional[int] = None) evaluates once, after all the epochs.
        RunConfig once = RunConfigJson.Parse(yaml.Replace("eval_interval: 2000", "eval_interval: null",
            StringComparison.Ordinal), [], [], "t");
        Assert.Equal((20000, 20000), (once.Epochs, once.EvalInterval));
    }

    [Fact]
    public void Json_run_configs_may_open_with_a_comment()
    {
        RunConfig c = RunConfigJson.Parse("""
            // sudoku, smaller
            /* a block comment */ {"arch": {"hidden_size": 64, "num_heads": 4}, "lr": 0.001}
            """, [], [], "t");
        Assert.Equal((64, 0.001), (c.Arch.HiddenSize, c.Lr));
    }
}
