using Hrm.Runtime.Config;

namespace Hrm.Runtime.Tests.Config;

public class HrmConfigTests
{
    [Fact]
    public void Defaults_are_the_reference_hrm_v1()
    {
        var c = new HrmConfig();
        Assert.Equal((512, 8, 4.0, 2, 2, 4, 4, 16, 0.1, 512), (c.HiddenSize, c.NumHeads, c.Expansion, c.HCycles, c.LCycles,
            c.HLayers, c.LLayers, c.HaltMaxSteps, c.HaltExplorationProb, c.PuzzleEmbNdim));
        Assert.Equal((PosEncoding.Rope, 10000.0, 1e-5), (c.PosEncodings, c.RopeTheta, c.RmsNormEps));
        Assert.Equal((64, 1, 82, 1536), (c.HeadDim, c.PuzzleEmbLen, c.TotalSeqLen, c.Intermediate));
    }

    [Fact]
    public void Json_round_trips_with_reference_key_names()
    {
        var c = new HrmConfig { HiddenSize = 256, NumHeads = 4, HCycles = 3, PosEncodings = PosEncoding.Learned, RmsNormEps = 1e-6, SeqLen = 900, VocabSize = 12, NumPuzzleIdentifiers = 77 };
        string json = HrmConfigJson.Serialize(c);
        string[] ours = ["no_ACT_continue", "detach_q_head"]; // absent unless set: default configs stay the reference's
        foreach (string key in HrmConfigJson.Keys.Except(ours)) Assert.Contains($"\"{key}\"", json);
        foreach (string key in ours) Assert.DoesNotContain(key, json);
        Assert.Equal(c, HrmConfigJson.Parse(json));
    }

    [Fact]
    public void Detach_q_head_round_trips_and_rejects_non_booleans()
    {
        string json = HrmConfigJson.Serialize(new HrmConfig { DetachQHead = true });
        Assert.Contains("\"detach_q_head\":true", json);
        Assert.True(HrmConfigJson.Parse(json).DetachQHead);
        Assert.False(HrmConfigJson.Parse("""{"detach_q_head": false}""").DetachQHead);
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("""{"detach_q_head": "yes"}"""));
        Assert.Equal("detach_q_head", e.Field);
    }

    [Fact]
    public void No_act_continue_round_trips_and_rejects_non_booleans()
    {
        var c = new HrmConfig { NoActContinue = true };
        string json = HrmConfigJson.Serialize(c);
        Assert.Contains("\"no_ACT_continue\":true", json);
        Assert.True(HrmConfigJson.Parse(json).NoActContinue);
        Assert.True(HrmConfigJson.Parse("""{"no_ACT_continue": "true"}""").NoActContinue);
        Assert.False(HrmConfigJson.Parse("""{"no_ACT_continue": false}""").NoActContinue);
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("""{"no_ACT_continue": 1}"""));
        Assert.Equal("no_ACT_continue", e.Field);
    }

    [Fact]
    public void Ignored_reference_keys_warn_and_unknown_keys_fail_with_their_name()
    {
        var warnings = new List<string>();
        HrmConfig c = HrmConfigJson.Parse("""{"batch_size": 768, "forward_dtype": "bfloat16", "H_cycles": 3}""", warnings);
        Assert.Equal(3, c.HCycles);
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("forward_dtype 'bfloat16' is not used", StringComparison.Ordinal));
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("""{"hidden": 4}"""));
        Assert.Equal("hidden", e.Field);
    }

    [Fact]
    public void The_references_model_and_loss_names_are_checked_not_warned_about()
    {
        var warnings = new List<string>();
        HrmConfigJson.Parse("""
            {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
             "loss": {"name": "losses@ACTLossHead", "loss_type": "softmax_cross_entropy"}}
            """, warnings);
        Assert.Empty(warnings);
        (string Json, string Field, string Says)[] bad =
        [
            ("""{"name": "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"}""", "name", "another model"),
            ("""{"name": 3}""", "name", "expected a string"),
            ("""{"loss": "stablemax_cross_entropy"}""", "loss", "expected an object"),
            ("""{"loss": {"name": "losses@OtherHead"}}""", "loss.name", "another loss head"),
            ("""{"loss": {"loss_type": "cross_entropy"}}""", "loss.loss_type", "stablemax_cross_entropy or softmax"),
            ("""{"loss": {"label_smoothing": 0.1}}""", "loss.label_smoothing", "unknown key"),
        ];
        foreach ((string json, string field, string says) in bad)
        {
            var e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse(json));
            Assert.Equal(field, e.Field);
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"hidden_size": 500}""", "num_heads")]
    [InlineData("""{"hidden_size": 24, "num_heads": 8}""", "num_heads")]
    [InlineData("""{"hidden_size": "big"}""", "hidden_size")]
    [InlineData("""{"expansion": -1}""", "expansion")]
    [InlineData("""{"pos_encodings": "alibi"}""", "pos_encodings")]
    [InlineData("""{"halt_exploration_prob": 1.5}""", "halt_exploration_prob")]
    [InlineData("""{"H_cycles": 0}""", "H_cycles")]
    [InlineData("""{"seq_len": 2.5}""", "seq_len")]
    public void Invalid_values_name_the_field(string json, string field)
    {
        var e = Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse(json));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Malformed_json_is_a_config_error()
    {
        Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("{ not json"));
        Assert.Throws<HrmConfigException>(() => HrmConfigJson.Parse("[1, 2]"));
    }

    [Fact]
    public void Every_preset_is_valid()
    {
        foreach (string name in HrmPresets.Names) HrmPresets.Get(name).Validate();
        Assert.Throws<HrmConfigException>(() => HrmPresets.Get("nope"));
    }
}
