using Hrm.Train.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

public sealed class SamplerTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-sampler-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_pass_takes_one_member_of_every_group_per_epoch_and_drops_the_last_partial_batch()
    {
        string data = TrainingFixtures.Build4x4(Path.Combine(_dir.FullName, "d"), train: 50, numAug: 3);
        using PuzzleDataset ds = PuzzleDataset.Open(data, "train");
        var s = new TrainSampler(ds, globalBatch: 16, epochsPerPass: 2, seed: 5);
        s.StartPass();
        var tokens = new int[16 * 16];
        var labels = new int[16 * 16];
        var ids = new int[16];
        int batches = 0;
        while (s.NextBatch(tokens, labels, ids)) batches++;
        Assert.Equal(100 / 16, batches); // 2 epochs x 50 groups, one puzzle (one example) each
        Assert.All(labels, v => Assert.InRange(v, 2, 5));
    }

    [Fact]
    public void State_round_trip_reproduces_the_following_batches()
    {
        string data = TrainingFixtures.Build4x4(Path.Combine(_dir.FullName, "d"), train: 40, numAug: 2);
        using PuzzleDataset ds = PuzzleDataset.Open(data, "train");
        var a = new TrainSampler(ds, 8, 1, 9);
        a.StartPass();
        var t = new int[8 * 16];
        var l = new int[8 * 16];
        var id = new int[8];
        a.NextBatch(t, l, id);
        var state = a.GetState();
        a.NextBatch(t, l, id);
        int[] expected = (int[])t.Clone();
        var b = new TrainSampler(ds, 8, 1, 9);
        b.SetState(state.Pass, state.Position, state.Rng);
        b.NextBatch(t, l, id);
        Assert.Equal(expected, t);
        var c = new TrainSampler(ds, 8, 1, 10);
        c.StartPass();
        c.NextBatch(t, l, id);
        c.NextBatch(t, l, id);
        Assert.NotEqual(expected, t); // another seed, another order
    }
}
