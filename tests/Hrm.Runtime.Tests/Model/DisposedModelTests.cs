using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Model;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Formats;
using Hrm.Runtime.Tests.Solver;

namespace Hrm.Runtime.Tests.Model;

/// <summary>
/// What an app meets when it misuses the model: after Dispose the backend's memory is gone, so every call is an
/// <see cref="ObjectDisposedException"/> (it read and wrote freed memory before: an access violation, a crash, or a
/// checkpoint saved from freed memory); null and out-of-range arguments are argument errors.
/// </summary>
public sealed class DisposedModelTests
{
    [Fact]
    public void Every_call_after_dispose_is_an_ObjectDisposedException()
    {
        using var dir = new TempDir();
        HrmConfig c = ModelFixtures.Micro();
        var model = new HrmModel(c, new CpuBackend(1));
        ModelFixtures.RandomizeAll(model, 3);
        model.Reserve(2, training: false);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 2, 4);
        string saved = dir.File("m.safetensors");
        HrmCheckpoint.Save(model, saved);
        var state = new ActState(2, c.SeqLen);
        model.Dispose();
        model.Dispose(); // idempotent
        string name = model.Layout.Entries[0].Name;
        Action[] calls =
        [
            () => model.Evaluate(tokens, ids),
            () => model.ReadParameter(name),
            () => model.WriteParameter(name, new float[model.Layout[name].Count]),
            () => model.SetInputs(tokens, ids),
            () => model.ReadLogits(new float[2 * c.SeqLen * c.VocabSize]),
            () => model.Segment(false),
            () => model.SaveCarry(state),
            () => model.LoadCarry(state),
            () => model.ZeroGrads(),
            () => model.Reserve(4, false),
            () => model.Backward(),
            () => _ = model.Backend,
            () => HrmCheckpoint.Save(model, dir.File("after.safetensors")),
            () => HrmCheckpoint.LoadInto(model, saved),
            () => model.ActStep(state, tokens, ids, default, training: false),
            () => model.ResetActCarry(),
            () => model.ReadCarry(new float[1], new float[1]),
            () => model.Initialize(new Hrm.Runtime.Numerics.HrmRandom(1)),
            () => model.Param(name),
            () => model.ReadQRows(1, new float[2]),
            () => model.ReadLogitsRows(1, new float[c.SeqLen * c.VocabSize]),
            () => model.ResetRows(1, [1]),
            () => model.SegmentRows(1),
        ];
        for (int i = 0; i < calls.Length; i++)
        {
            var e = Record.Exception(calls[i]);
            Assert.True(e is ObjectDisposedException, $"call {i}: {e?.GetType().Name ?? "no exception"}: {e?.Message}");
        }
        Assert.False(File.Exists(dir.File("after.safetensors")));
    }

    [Fact]
    public void Null_and_out_of_range_arguments_are_argument_errors()
    {
        Assert.Throws<ArgumentNullException>(() => new HrmModel(null!, new CpuBackend(1)));
        Assert.Throws<ArgumentNullException>(() => new HrmModel(ModelFixtures.Micro(), null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActState(-1, 81));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActState(1 << 20, 1 << 12));
        HrmConfig c = ModelFixtures.Micro();
        using var model = new HrmModel(c, new CpuBackend(1));
        model.Reserve(1, training: false);
        (int[] tokens, int[] ids) = ModelFixtures.Inputs(c, 1, 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(tokens, ids, maxSteps: -3));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Evaluate(tokens, ids, maxSteps: 1025));
    }

    [Fact]
    public void A_directory_given_as_a_checkpoint_is_named_as_one()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<HrmFormatException>(() =>
            HrmSolver.Load(dir.Path, new SolverOptions { Device = SolverDevice.Cpu }));
        Assert.Equal($"{dir.Path}: file: is a directory; expected a checkpoint file (.safetensors, or PyTorch's .pt)",
            e.Message);
        Assert.Throws<HrmFormatException>(() => HrmCheckpoint.ReadConfig(dir.Path));
        Assert.Contains("is a directory; expected a safetensors file",
            Assert.Throws<HrmFormatException>(() => SafeTensorsFile.Open(dir.Path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_solver_disposed_from_many_threads_at_once_frees_its_model_once()
    {
        using var ckpt = new TinyCheckpoint();
        for (int round = 0; round < 20; round++)
        {
            var solver = HrmSolver.Load(ckpt.Path, new SolverOptions { Device = SolverDevice.Cpu, Threads = 1 });
            using var start = new Barrier(4);
            Thread[] disposers = [.. Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                solver.Dispose();
            }))];
            foreach (Thread t in disposers) t.Start();
            foreach (Thread t in disposers) t.Join();
            Assert.Throws<ObjectDisposedException>(() => solver.Solve(SudokuGrid.Parse(new string('.', 16))));
        }
    }
}
