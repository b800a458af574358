using Hrm.Runtime.Config;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Tests.Model;

public class LayoutTests
{
    [Theory]
    [InlineData("sudoku-extreme-1k", 27_275_266L)]
    [InlineData("maze-30x30-hard-1k", 27_270_146L)]
    [InlineData("arc-1", 27_276_290L)]
    public void Parameter_count_matches_the_reference(string preset, long expected)
        => Assert.Equal(expected, new ParameterLayout(HrmPresets.Get(preset)).ParameterCount);

    [Fact]
    public void Learned_positions_are_a_counted_parameter()
    {
        var layout = new ParameterLayout(new HrmConfig { PosEncodings = PosEncoding.Learned });
        Assert.Equal(27_275_266L + 82 * 512, layout.ParameterCount);
    }

    [Fact]
    public void Names_and_shapes_are_the_reference_state_dict()
    {
        var layout = new ParameterLayout(new HrmConfig());
        Assert.Equal("[11, 512]", layout["model.inner.embed_tokens.embedding_weight"].ShapeText);
        Assert.Equal("[11, 512]", layout["model.inner.lm_head.weight"].ShapeText);
        Assert.Equal("[2, 512]", layout["model.inner.q_head.weight"].ShapeText);
        Assert.Equal("[2]", layout["model.inner.q_head.bias"].ShapeText);
        Assert.Equal("[1, 512]", layout["model.inner.puzzle_emb.weights"].ShapeText);
        Assert.Equal("[512]", layout["model.inner.H_init"].ShapeText);
        Assert.True(layout["model.inner.L_init"].StoredAsBf16);
        foreach (string level in new[] { "H", "L" })
        {
            for (int i = 0; i < 4; i++)
            {
                string p = $"model.inner.{level}_level.layers.{i}.";
                Assert.Equal("[1536, 512]", layout[p + "self_attn.qkv_proj.weight"].ShapeText);
                Assert.Equal("[512, 512]", layout[p + "self_attn.o_proj.weight"].ShapeText);
                Assert.Equal("[3072, 512]", layout[p + "mlp.gate_up_proj.weight"].ShapeText);
                Assert.Equal("[512, 1536]", layout[p + "mlp.down_proj.weight"].ShapeText);
            }
        }
        Assert.Equal(4 + 32 + 3, layout.Entries.Count);
    }

    [Fact]
    public void Offsets_are_aligned_and_disjoint_and_dense_parameters_come_first()
    {
        var layout = new ParameterLayout(new HrmConfig());
        long end = 0;
        bool sawBuffer = false;
        foreach (TensorEntry e in layout.Entries)
        {
            Assert.Equal(0, e.Offset % ParameterLayout.AlignElements);
            Assert.True(e.Offset >= end);
            end = e.Offset + e.Count;
            if (e.Kind == TensorKind.Buffer) sawBuffer = true;
            else Assert.False(sawBuffer, "a parameter follows a buffer");
            if (e.Kind == TensorKind.Parameter) Assert.True(e.Offset + e.Count <= layout.DenseElements);
        }
        Assert.True(end <= layout.TotalElements);
    }

    [Fact]
    public void Activation_plan_does_not_depend_on_the_cycle_counts()
    {
        var a = new HrmConfig { HCycles = 2, LCycles = 2 };
        var b = new HrmConfig { HCycles = 4, LCycles = 8 };
        foreach (bool training in new[] { true, false })
        {
            long bytesA = HrmModel.MeasurePlan(a, 32, training).Bytes(4);
            long bytesB = HrmModel.MeasurePlan(b, 32, training).Bytes(4);
            Assert.Equal(bytesA, bytesB);
            Assert.True(bytesA > 0);
        }
        Assert.True(HrmModel.MeasurePlan(a, 32, true).Bytes(4) > HrmModel.MeasurePlan(a, 32, false).Bytes(4));
    }

    [Fact]
    public void Intermediate_size_follows_the_reference_rounding()
    {
        Assert.Equal(1536, new HrmConfig().Intermediate);
        Assert.Equal(256, new HrmConfig { HiddenSize = 64, NumHeads = 4 }.Intermediate);
    }
}
