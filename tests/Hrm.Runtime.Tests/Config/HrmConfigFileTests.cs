using Hrm.Runtime.Config;
using Hrm.Runtime.Tests.Formats;

namespace Hrm.Runtime.Tests.Config;

/// <summary>Architectures from files: the reference's all_config.yaml (as PyYAML dumps a run config), JSON, and what
/// a bad file says.</summary>
public sealed class HrmConfigFileTests
{
    /// <summary>An ARC run's all_config.yaml exactly as the reference's pretrain.py writes it (PyYAML 6.0.3's yaml.dump of
    /// the pydantic config: keys sorted, nested block mappings, a block list, and checkpoint_path folded at 80 columns
    /// onto an indented second line).</summary>
    private const string AllConfigYaml = """
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
            loss_type: stablemax_cross_entropy
            name: losses@ACTLossHead
          name: hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1
          num_heads: 8
          pos_encodings: rope
          puzzle_emb_ndim: 512
        beta1: 0.9
        beta2: 0.95
        checkpoint_every_eval: true
        checkpoint_path: checkpoints/Arc-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1
          amiable-walrus
        data_path: data/arc-aug-1000
        epochs: 20000
        eval_interval: 2000
        eval_save_outputs:
        - inputs
        - labels
        - puzzle_identifiers
        - logits
        - q_halt_logits
        - q_continue_logits
        global_batch_size: 384
        lr: 7.0e-05
        lr_min_ratio: 1.0
        lr_warmup_steps: 2000
        project_name: Arc-aug-1000 ACT-torch
        puzzle_emb_lr: 7.0e-05
        puzzle_emb_weight_decay: 1.0
        run_name: HierarchicalReasoningModel_ACTV1 amiable-walrus
        seed: 0
        weight_decay: 1.0

        """;

    [Fact]
    public void The_references_all_config_yaml_gives_the_arch_and_the_dataset_the_rest()
    {
        using var dir = new TempDir();
        string path = dir.Write("all_config.yaml", System.Text.Encoding.UTF8.GetBytes(AllConfigYaml));
        var warnings = new List<string>();
        HrmConfigFile f = HrmConfigFile.Load(path, warnings);
        HrmConfig c = f.Config;
        Assert.Equal((512, 8, 4.0, 2, 2, 4, 4, 16, 0.1, 512, PosEncoding.Rope),
            (c.HiddenSize, c.NumHeads, c.Expansion, c.HCycles, c.LCycles, c.HLayers, c.LLayers, c.HaltMaxSteps,
             c.HaltExplorationProb, c.PuzzleEmbNdim, c.PosEncodings));
        Assert.Empty(warnings); // name and loss: the reference HRM's and its ACT loss head, checked, not warned about
        Assert.Equal("stablemax_cross_entropy", f.LossType);
        Assert.DoesNotContain("seq_len", f.GivenKeys);
        HrmConfig arc = f.WithDataset(seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: 961);
        Assert.Equal((900, 12, 961), (arc.SeqLen, arc.VocabSize, arc.NumPuzzleIdentifiers));
        Assert.Equal(c with { SeqLen = 900, VocabSize = 12, NumPuzzleIdentifiers = 961 }, arc);
        string json = YamlSubset.ToJson(AllConfigYaml, "all_config.yaml");
        Assert.Contains("\"checkpoint_path\":\"checkpoints/Arc-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1 amiable-walrus\"",
            json, StringComparison.Ordinal);
        Assert.Contains("\"eval_save_outputs\":[\"inputs\",\"labels\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_and_json_of_the_same_arch_give_the_same_config_and_keys_the_file_gives_win_over_the_dataset()
    {
        using var dir = new TempDir();
        string yaml = dir.Write("a.yml", System.Text.Encoding.UTF8.GetBytes("""
            --- # a comment
            hidden_size: 64   # trailing comment
            num_heads: 4
            'expansion': 2.5
            rms_norm_eps: 1.0e-06
            seq_len: 16
            pos_encodings: 'learned'
            no_ACT_continue: True
            """));
        string json = dir.Write("a.json", System.Text.Encoding.UTF8.GetBytes("""
            { "hidden_size": 64, "num_heads": 4, "expansion": 2.5, "rms_norm_eps": 1e-6, "seq_len": 16,
              "pos_encodings": "learned", "no_ACT_continue": true }
            """));
        HrmConfigFile a = HrmConfigFile.Load(yaml), b = HrmConfigFile.Load(json);
        Assert.Equal(b.Config, a.Config);
        Assert.Equal(16, a.WithDataset(900, 6, 3).SeqLen); // given by the file
        Assert.Equal((6, 3), (a.WithDataset(900, 6, 3).VocabSize, a.WithDataset(900, 6, 3).NumPuzzleIdentifiers));
    }

    [Theory]
    [InlineData("arch:\n\thidden_size: 64\n", "line 2: a tab")]
    [InlineData("arch:\n  hidden_size: 64\n    num_heads: 4\n", "line 3: 'num_heads: 4' is indented more")]
    [InlineData("arch:\n  hidden_size: &w 64\n", "line 2: 'hidden_size: &w 64' has a flow mapping, anchor")]
    [InlineData("arch:\n  hidden_size 64\n", "line 2: 'hidden_size 64' is not 'key: value'")]
    [InlineData("arch:\n  hidden_size: 64\n  - 5\n", "line 3: '- 5' is a list item inside a mapping")]
    [InlineData("arch:\n  hidden_sise: 64\n", "hidden_sise")]
    [InlineData("arch:\n  hidden_size: sixty\n", "hidden_size")]
    public void A_bad_yaml_file_is_refused_with_its_line(string text, string expected)
    {
        using var dir = new TempDir();
        string path = dir.Write("bad.yaml", System.Text.Encoding.UTF8.GetBytes(text));
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigFile.Load(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lists_nulls_and_quoted_scalars_read_as_pyyaml_writes_them()
    {
        string json = YamlSubset.ToJson("""
            a:
            - 1
            - x y
            - 'it''s'
            b: [1, 2.5, "q"]
            c: {}
            d: ~
            e: "tab\tnew"
            f: -.inf
            h:
              - true
            """, "t.yaml");
        Assert.Equal("""{"a":[1,"x y","it\u0027s"],"b":[1,2.5,"q"],"c":{},"d":null,"e":"tab\tnew","f":"-Infinity","h":[true]}""",
            json);
    }

    [Fact]
    public void Json_that_opens_with_a_comment_is_read_as_json()
    {
        using var dir = new TempDir();
        string path = dir.Write("arch.json", System.Text.Encoding.UTF8.GetBytes(
            "// a comment\n/* and another */ {\"hidden_size\": 64, \"num_heads\": 4, \"loss\": {\"loss_type\": \"softmax_cross_entropy\"}}"));
        HrmConfigFile f = HrmConfigFile.Load(path);
        Assert.Equal((64, 4, "softmax_cross_entropy"), (f.Config.HiddenSize, f.Config.NumHeads, f.LossType));
        Assert.False(YamlSubset.IsJsonObject("# yaml comment {\na: 1"));
        Assert.False(YamlSubset.IsJsonObject("/* never closed {"));
        Assert.True(YamlSubset.IsJsonObject("  \n{}"));
    }

    /// <summary>Run configs as PyYAML writes them (long values folded, quoted strings, nested mappings, lists, numbers
    /// in its spellings) dumped by the real PyYAML and read back by it: this reader must give the same JSON.</summary>
    private const string PyYamlCases = """
        import json, sys, yaml
        long = "checkpoints/Sudoku-extreme-1k-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1 loving-mongrel"
        cases = [
            {"arch": {"H_cycles": 2, "hidden_size": 512, "loss": {"loss_type": "stablemax_cross_entropy",
             "name": "losses@ACTLossHead"}, "name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
             "pos_encodings": "rope", "puzzle_emb_ndim": 512, "halt_exploration_prob": 0.1, "expansion": 4.0},
             "checkpoint_path": long, "run_name": long[50:], "project_name": None, "eval_save_outputs": [],
             "lr": 7e-05, "wd": 1.0, "big": 1e20, "tiny": 1e-5, "neg": -3, "flag": True, "off": False},
            {"words": ["inputs", "labels", "q halt logits"], "nested": {"a": {"b": {"c": [1, 2.5, None]}}},
             "empty": {}, "quoted": ["yes", "no", "null", "123", "1.5", "a: b", "# not a comment", "it's", "",
             "x #y", "-dash", "[bracket", "{brace", "tab\there", "ünïcödé", "@at", "`tick", "50%"],
             "long_quoted": "it's " + long, "long_colon": "a: b " + long},
        ]
        out = []
        for c in cases:
            text = yaml.dump(c)
            out.append({"yaml": text, "json": json.dumps(yaml.safe_load(text))})
        json.dump(out, sys.stdout)
        """;

    [Fact]
    public void What_pyyaml_dumps_reads_as_pyyaml_loads_it()
    {
        string? python = TestUtil.ChildProcess.FindOnPath("python3");
        Assert.SkipWhen(python is null, "python3 is not on PATH (PyYAML writes this test's files)");
        using var dir = new TempDir();
        string script = dir.Write("cases.py", System.Text.Encoding.UTF8.GetBytes(PyYamlCases));
        (int rc, string log) = TestUtil.ChildProcess.Run(python!, ["-c", "import yaml"], null, 60_000);
        Assert.SkipWhen(rc != 0, "python3 has no PyYAML (pip install pyyaml)");
        (rc, log) = TestUtil.ChildProcess.Run(python!, [script], null, 60_000);
        Assert.True(rc == 0, log);
        using var cases = System.Text.Json.JsonDocument.Parse(log);
        int n = 0;
        foreach (System.Text.Json.JsonElement c in cases.RootElement.EnumerateArray())
        {
            string yaml = c.GetProperty("yaml").GetString()!, expected = c.GetProperty("json").GetString()!;
            using var ours = System.Text.Json.JsonDocument.Parse(YamlSubset.ToJson(yaml, $"case {n}"));
            using var theirs = System.Text.Json.JsonDocument.Parse(expected);
            Assert.True(System.Text.Json.JsonElement.DeepEquals(ours.RootElement, theirs.RootElement),
                $"case {n}:\n{yaml}\nPyYAML: {expected}\nours:   {ours.RootElement.GetRawText()}");
            n++;
        }
        Assert.Equal(2, n);
    }
}
