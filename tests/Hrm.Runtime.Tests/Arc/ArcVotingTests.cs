using System.Text.Json;
using Hrm.Runtime.Arc;

namespace Hrm.Runtime.Tests.Arc;

public sealed class ArcVotingTests : IDisposable
{
    private static readonly ArcGrid X = ArcGrid.FromRows([1, 2], [3, 4]);
    private static readonly ArcGrid X2 = ArcGrid.FromRows([5, 6, 7]);
    private static readonly ArcGrid Y = ArcGrid.FromRows([4, 3], [2, 1]);
    private static readonly ArcGrid Z = ArcGrid.FromRows([9]);
    private static readonly ArcGrid W = ArcGrid.FromRows([8, 8]);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-vote-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static void Vote(ArcVoting v, string task, ArcGrid input, ArcGrid prediction, int times, double q)
    {
        for (int i = 0; i < times; i++) v.AddPrediction(task, input, prediction, q);
    }

    [Fact]
    public void Candidates_rank_by_count_then_mean_confidence_then_first_seen()
    {
        var v = new ArcVoting();
        Vote(v, "a", X, Y, 2, 0.1);
        Vote(v, "a", X, Z, 3, 0.9);
        Vote(v, "a", X, W, 2, 0.6);
        v.AddPrediction("a", X, ArcGrid.FromRows([7]), 0.2);
        v.AddPrediction("a", X, ArcGrid.FromRows([6]), 0.2);
        IReadOnlyList<ArcCandidate> r = v.Ranked("a", X);
        Assert.Equal([Z, W, Y, ArcGrid.FromRows([7]), ArcGrid.FromRows([6])], r.Select(c => c.Grid));
        Assert.Equal((3, 0.9), (r[0].Count, r[0].MeanQ), new CountQComparer());
        Assert.Equal(0.1, r[2].MeanQ, 12);
        v.AddLabel("a", X, Y);
        ArcScore s = v.Score([1, 2, 3]);
        Assert.Equal([0, 0, 1], s.Solved);
        Assert.Equal(1, s.Tasks);
    }

    [Fact]
    public void A_task_counts_only_when_all_its_test_inputs_are_solved()
    {
        var v = new ArcVoting();
        v.AddLabel("b", X, Y);
        v.AddLabel("b", X2, Z);
        Vote(v, "b", X, Y, 5, 0.5);                                  // rank 0
        Vote(v, "b", X2, W, 4, 0.5);
        Vote(v, "b", X2, Y, 3, 0.5);
        Vote(v, "b", X2, Z, 2, 0.5);                                 // rank 2
        v.AddLabel("c", X, Z);                                       // no votes at all: never solved
        v.AddLabel("d", X, W);
        Vote(v, "d", X, W, 1, 0.0);
        Vote(v, "d", Z, W, 1, 0.0);                                  // an input that is not a test input of d
        ArcScore s = v.Score();
        Assert.Equal([1, 2, 10, 100, 1000], s.Ks);
        Assert.Equal(3, s.Tasks);
        Assert.Equal([1, 1, 2, 2, 2], s.Solved);
        Assert.Equal(2 / 3.0, s.Rate(2), 12);
        Assert.Equal(1, s.UnmatchedRows);
    }

    [Fact]
    public void Rows_are_cropped_and_de_augmented_before_voting()
    {
        var v = new ArcVoting();
        var view = new ArcView(3, ArcColorMap.TryParse("0987654321")!);
        int[] Seq(ArcGrid g)
        {
            byte[] b = new byte[900];
            ArcEncoding.Encode(g, 0, 0, b);
            return [.. b.Select(t => (int)t)];
        }
        int[] ignoredLabel = [.. Seq(Y).Select(t => t == 0 ? -100 : t)];
        v.AddRow("task1", Seq(X), ignoredLabel, Seq(Y), 2f);                                  // original: gives the label
        v.AddRow(view.Name("task1"), Seq(view.Apply(X)), Seq(view.Apply(Y)), Seq(view.Apply(Y)), 0f);
        v.AddRow(view.Name("task1"), Seq(view.Apply(X)), Seq(view.Apply(Y)), Seq(view.Apply(Z)), 5f);
        v.AddRow("task1_bogus", Seq(X), Seq(Y), Seq(Z), 0f);
        IReadOnlyList<ArcCandidate> r = v.Ranked("task1", X);
        Assert.Equal(Y, r[0].Grid);
        Assert.Equal(2, r[0].Count);
        Assert.Equal((1 / (1 + Math.Exp(-2)) + 0.5) / 2, r[0].MeanQ, 6);
        Assert.Equal(Z, r[1].Grid);
        ArcScore s = v.Score();
        Assert.Equal(1, s.Solved[0]);
        Assert.Equal(4, s.Rows);
        Assert.Equal(1, s.UnmatchedRows);
    }

    [Fact]
    public void The_submission_lists_two_attempts_per_test_input_in_dataset_order()
    {
        var v = new ArcVoting();
        v.AddLabel("t", X, Y);
        v.AddLabel("t", X2, Z);
        v.AddLabel("u", X, Y);
        Vote(v, "t", X, Z, 2, 0.5);
        Vote(v, "t", X, Y, 1, 0.5);
        Vote(v, "t", X2, W, 1, 0.5);
        string path = Path.Combine(_dir.FullName, "sub", "submission.json");
        v.WriteSubmission(path);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement t = doc.RootElement.GetProperty("t");
        Assert.Equal(2, t.GetArrayLength());
        Assert.Equal("[[9]]", t[0].GetProperty("attempt_1").GetRawText());
        Assert.Equal("[[4,3],[2,1]]", t[0].GetProperty("attempt_2").GetRawText());
        Assert.Equal("[[8,8]]", t[1].GetProperty("attempt_1").GetRawText());
        Assert.Equal("[[8,8]]", t[1].GetProperty("attempt_2").GetRawText());          // one candidate: repeated
        Assert.Equal("[[0]]", doc.RootElement.GetProperty("u")[0].GetProperty("attempt_1").GetRawText());
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, ".hrm-*.tmp")); // AtomicFileWriter's
    }

    private sealed class CountQComparer : IEqualityComparer<(int, double)>
    {
        public bool Equals((int, double) a, (int, double) b) => a.Item1 == b.Item1 && Math.Abs(a.Item2 - b.Item2) < 1e-12;

        public int GetHashCode((int, double) obj) => obj.Item1;
    }
}
