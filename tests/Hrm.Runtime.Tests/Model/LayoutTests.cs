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
    public void Bf16_intermediates_take_half_the_bytes_of_their_buffers()
    {
        var cfg = new HrmConfig();
        foreach (bool training in new[] { true, false })
        {
            ActivationPlan f32 = HrmModel.MeasurePlan(cfg, 32, training), bf16 = HrmModel.MeasurePlan(cfg, 32, training,
                bf16Inter: true);
            Assert.Equal(f32.Entries.Select(e => e.Name), bf16.Entries.Select(e => e.Name));
            long mlp = 0;
            foreach (PlanEntry e in bf16.Entries)
            {
                bool isBf16 = e.Name is "tmp" or "target.first_tmp" || e.Name.EndsWith(".gate_up", StringComparison.Ordinal) ||
                              e.Name.EndsWith(".act", StringComparison.Ordinal); // grad.gate_up and grad.act too
                Assert.True(isBf16 == e.IsBf16, $"{e.Name}: bf16 {e.IsBf16}");
                if (isBf16) mlp += e.Count * sizeof(float);
            }
            Assert.True(mlp > 0);
            long saved = f32.Bytes(4) - bf16.Bytes(4);
            Assert.InRange(saved, mlp / 2 - 16384, mlp / 2 + 16384); // the buffers' alignment aside
        }
        // the no-grad scratch's qkv too where the backend reads it in bf16; the recorded ones only with bf16RecordedQkv
        ActivationPlan withQkv = HrmModel.MeasurePlan(cfg, 32, training: true, bf16Inter: true, bf16Qkv: true);
        Assert.True(withQkv.Entries.Single(e => e.Name == "scratch.qkv").IsBf16);
        Assert.All(withQkv.Entries.Where(e => e.Name.EndsWith(".qkv", StringComparison.Ordinal) && e.Name != "scratch.qkv"),
            e => Assert.False(e.IsBf16, e.Name));
        // the bf16 residual stream of the no-grad forwards (Bf16StreamForward): those buffers only; the carry and the
        // recorded stream stay fp32
        ActivationPlan withStream = HrmModel.MeasurePlan(cfg, 32, training: true, bf16Inter: true, bf16Qkv: true,
            bf16Stream: true);
        string[] stream = ["ping", "pong", "scratch.att", "scratch.h1", "target.first_in", "target.first.att", "target.first.h1"];
        foreach (PlanEntry e in withStream.Entries)
        {
            bool was = withQkv.Entries.Single(x => x.Name == e.Name).IsBf16;
            Assert.True(e.IsBf16 == (was || stream.Contains(e.Name)), $"{e.Name}: bf16 {e.IsBf16}");
        }
        Assert.True(withStream.Bytes(4) < withQkv.Bytes(4));
    }

    [Fact]
    public void The_recorded_bf16_qkv_and_its_gradient_take_half_their_bytes()
    {
        var cfg = new HrmConfig();
        ActivationPlan before = HrmModel.MeasurePlan(cfg, 32, training: true, bf16Inter: true, bf16Qkv: true),
            rec = HrmModel.MeasurePlan(cfg, 32, training: true, bf16Inter: true, bf16Qkv: true, bf16RecordedQkv: true);
        Assert.Equal(before.Entries.Select(e => e.Name), rec.Entries.Select(e => e.Name));
        long qkv = 0;
        int changed = 0;
        foreach (PlanEntry e in rec.Entries)
        {
            bool was = before.Entries.Single(x => x.Name == e.Name).IsBf16;
            bool level = e.Name.StartsWith("L_level.", StringComparison.Ordinal) ||
                         e.Name.StartsWith("H_level.", StringComparison.Ordinal);
            bool recorded = e.Name == "grad.qkv" || (level && e.Name.EndsWith(".qkv", StringComparison.Ordinal));
            Assert.True(e.IsBf16 == (was || recorded), $"{e.Name}: bf16 {e.IsBf16}");
            if (!recorded) continue;
            Assert.False(was, e.Name);
            qkv += e.Count * sizeof(float);
            changed++;
        }
        Assert.Equal(cfg.LLayers + cfg.HLayers + 1, changed);
        long saved = before.Bytes(4) - rec.Bytes(4);
        Assert.InRange(saved, qkv / 2 - 16384, qkv / 2 + 16384); // the buffers' alignment aside
        // an inference plan has no recorded blocks: the same plan
        ActivationPlan eval = HrmModel.MeasurePlan(cfg, 32, training: false, bf16Inter: true, bf16Qkv: true);
        ActivationPlan evalRec = HrmModel.MeasurePlan(cfg, 32, training: false, bf16Inter: true, bf16Qkv: true,
            bf16RecordedQkv: true);
        Assert.Equal(eval.Bytes(4), evalRec.Bytes(4));
    }

    [Fact]
    public void A_bf16_buffer_is_carved_in_two_byte_elements_between_its_neighbours()
    {
        const nint floats = 1 << 20, ints = 1 << 24;
        var plan = new ActivationPlan(sizeof(float), floats, ints);
        Buf a = plan.Carve("a", 3, 5);            // 15 floats, padded to 16
        Buf h = plan.CarveBf16("h", 2, 17);       // at 256 bytes; 34 bf16 = 17 floats, padded to 32
        Buf b = plan.Carve("b", 4);
        Assert.Equal((floats, 15L, 4), (a.Address, a.Length, a.ElemSize));
        Assert.Equal((floats + 256, 34L, 2), (h.Address, h.Length, h.ElemSize));
        Assert.Equal(floats + 256 + 128, b.Address);
        Assert.Equal(64 + 32 + 16, plan.FloatElements);
        Assert.True(plan.Entries[1].IsBf16);
        // a view of the first rows of the same buffers keeps the bf16 element size
        ActivationPlan rows = ActivationPlan.RowsOf(plan);
        _ = rows.Carve("a", 1, 5);
        Buf h1 = rows.CarveBf16("h", 1, 17);
        Assert.Equal((h.Address, 17L, 2), (h1.Address, h1.Length, h1.ElemSize));
        ActivationPlan wrong = ActivationPlan.RowsOf(plan);
        _ = wrong.Carve("a", 1, 5);
        Assert.Throws<InvalidOperationException>(() => wrong.Carve("h", 1, 17)); // a float view of a bf16 buffer
    }

    [Fact]
    public void Intermediate_size_follows_the_reference_rounding()
    {
        Assert.Equal(1536, new HrmConfig().Intermediate);
        Assert.Equal(256, new HrmConfig { HiddenSize = 64, NumHeads = 4 }.Intermediate);
    }
}
