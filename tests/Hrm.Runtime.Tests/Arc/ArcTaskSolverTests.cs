using Hrm.Runtime.Arc;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.Arc;

public sealed class ArcTaskSolverTests
{
    private const int L = ArcEncoding.SeqLen;

    /// <summary>A task "tk" of random small grids: two demonstrations, two test pairs of other shapes.</summary>
    private static ArcTask RandomTask(HrmRandom rng)
    {
        ArcGrid G(int rows, int cols)
        {
            byte[] cells = new byte[rows * cols];
            for (int i = 0; i < cells.Length; i++) cells[i] = (byte)rng.NextInt(0, 10);
            return new ArcGrid(rows, cols, cells);
        }
        return new ArcTask("tk", "tk", false, [new(G(3, 4), G(4, 3)), new(G(2, 2), G(2, 5))],
            [new(G(3, 5), G(5, 2)), new(G(6, 1), G(2, 2))]);
    }

    /// <summary>Identifiers: "&lt;blank&gt;", another task, the original and the views of "tk", another view.</summary>
    private static (ArcIdentifiers Ids, ArcView[] Views) Identifiers(HrmRandom rng, int augmented)
    {
        var views = new List<ArcView> { ArcView.Original };
        var names = new List<string> { ArcIdentifiers.Blank, "other" };
        while (views.Count < 1 + augmented)
        {
            var v = new ArcView(rng.NextInt(0, Dihedral.Count), ArcColorMap.Random(rng));
            if (names.Contains(v.Name("tk"))) continue;
            views.Add(v);
        }
        names.AddRange(views.Select(v => v.Name("tk")));
        names.Add("other_t1_0123456789");
        return (ArcIdentifiers.FromNames(names, "ids.json"), [.. views]);
    }

    private static void Put(ArcGrid g, Span<int> dst)
    {
        byte[] b = new byte[L];
        ArcEncoding.Encode(g, 0, 0, b);
        for (int i = 0; i < L; i++) dst[i] = b[i];
    }

    /// <summary>
    /// A fake model: for row r (test t = r / views, view v = r % views) it predicts answer(t, v) in the view's frame,
    /// nothing (all PAD) when that is null, with q_halt logit q(r); it checks the rows it is given.
    /// </summary>
    private static ArcPredictor Fake(ArcTask task, ArcView[] views, ArcIdentifiers ids, Func<int, int, ArcGrid?> answer,
        Func<int, float> q) => (tokens, puzzleIds) =>
    {
        int n = task.Test.Count * views.Length;
        Assert.Equal(n * L, tokens.Length);
        Assert.Equal(n, puzzleIds.Length);
        int[] predicted = new int[n * L];
        float[] qHalt = new float[n];
        int[] expectedRow = new int[L];
        for (int r = 0; r < n; r++)
        {
            (int t, int v) = (r / views.Length, r % views.Length);
            Assert.Equal(views[v].Name("tk"), ids.Names[puzzleIds[r]]);
            Put(views[v].Apply(task.Test[t].Input), expectedRow);
            Assert.True(tokens.Slice(r * L, L).SequenceEqual(expectedRow), $"row {r} is not view {v} of test input {t}");
            if (answer(t, v) is ArcGrid a) Put(views[v].Apply(a), predicted.AsSpan(r * L, L));
            qHalt[r] = q(r);
        }
        return (predicted, qHalt);
    };

    [Fact]
    public void A_model_that_answers_every_view_correctly_wins_with_all_votes()
    {
        var rng = new HrmRandom(21);
        ArcTask task = RandomTask(rng);
        (ArcIdentifiers ids, ArcView[] views) = Identifiers(rng, augmented: 7);
        ArcTaskSolution s = new ArcTaskSolver(ids).Solve(task, Fake(task, views, ids, (t, _) => task.Test[t].Output,
            r => r % 3 - 1f));
        Assert.Equal(("tk", 8, 2), (s.TaskId, s.Views, s.Tests.Count));
        for (int t = 0; t < 2; t++)
        {
            ArcTestSolution ts = s.Tests[t];
            Assert.Equal(task.Test[t].Input, ts.Input);
            ArcCandidate best = Assert.Single(ts.Attempts);
            Assert.Equal((task.Test[t].Output, 8, 1, 0), (best.Grid, best.Count, ts.Candidates, ts.DroppedViews));
            double meanQ = Enumerable.Range(t * 8, 8).Average(r => ArcVoting.Confidence(r % 3 - 1f));
            Assert.Equal(meanQ, best.MeanQ, 12);
        }
    }

    [Fact]
    public void Attempts_follow_the_evaluation_ranking_by_count_then_mean_confidence()
    {
        var rng = new HrmRandom(5);
        ArcTask task = RandomTask(rng);
        (ArcIdentifiers ids, ArcView[] views) = Identifiers(rng, augmented: 9);
        ArcGrid wrong = ArcGrid.FromRows([1, 2, 3], [4, 5, 6]), other = ArcGrid.FromRows([7]);
        // Test 0: 3 right, 5 wrong, 2 other -> wrong, right. Test 1: 4 right, 4 wrong (right with more confidence),
        // 1 empty prediction (dropped), 1 other -> right, wrong.
        ArcGrid? Answer(int t, int v) => t == 0
            ? v < 3 ? task.Test[0].Output : v < 8 ? wrong : other
            : v < 4 ? task.Test[1].Output : v < 8 ? wrong : v == 8 ? null : other;
        float Q(int r) => r >= 10 && r < 14 ? 3f : (r % 4) - 2f;
        ArcTaskSolution s = new ArcTaskSolver(ids).Solve(task, Fake(task, views, ids, Answer, Q));
        Assert.Equal([wrong, task.Test[0].Output], s.Tests[0].Attempts.Select(a => a.Grid));
        Assert.Equal([5, 3], s.Tests[0].Attempts.Select(a => a.Count));
        Assert.Equal([task.Test[1].Output, wrong], s.Tests[1].Attempts.Select(a => a.Grid));
        Assert.Equal([4, 4], s.Tests[1].Attempts.Select(a => a.Count));
        Assert.Equal((3, 0), (s.Tests[0].Candidates, s.Tests[0].DroppedViews));
        Assert.Equal((3, 1), (s.Tests[1].Candidates, s.Tests[1].DroppedViews));
        // The same votes cast into ArcVoting directly rank the same, to the last bit of the mean.
        for (int t = 0; t < 2; t++)
        {
            var voting = new ArcVoting();
            for (int v = 0; v < views.Length; v++)
            {
                if (Answer(t, v) is not ArcGrid a) continue;
                voting.AddPrediction("tk", task.Test[t].Input, a, ArcVoting.Confidence(Q(t * views.Length + v)));
            }
            Assert.Equal(voting.Ranked("tk", task.Test[t].Input).Take(2), s.Tests[t].Attempts);
        }
    }

    [Fact]
    public void Missing_or_empty_test_inputs_are_argument_errors_before_the_predictor_runs()
    {
        var rng = new HrmRandom(9);
        ArcTask task = RandomTask(rng);
        (ArcIdentifiers ids, _) = Identifiers(rng, augmented: 1);
        var solver = new ArcTaskSolver(ids);
        ArcPair empty = new(new ArcGrid(0, 0, []), task.Test[0].Output);
        foreach ((ArcTask bad, string expected) in ((ArcTask, string)[])[
            (task with { Test = null! }, "has no test pairs"),
            (task with { Test = [] }, "has no test pairs"),
            (task with { Test = [task.Test[0], null!] }, "test input 1 is missing or empty"),
            (task with { Test = [empty] }, "test input 0 is missing or empty")])
        {
            var e = Assert.Throws<ArgumentException>(() => solver.Solve(bad, (_, _) => throw new InvalidOperationException()));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Grids_are_checked_where_they_are_built_and_read()
    {
        ArcGrid g = ArcGrid.FromRows([1, 2], [3, 4]);
        Assert.Equal(4, g[1, 1]);
        foreach ((int r, int c) in ((int, int)[])[(0, 2), (0, 3), (1, -1), (2, 0), (-1, 0)])
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => g[r, c]);
            Assert.Contains($"cell ({r}, {c}) is outside the 2 x 2 grid", e.Message, StringComparison.Ordinal);
        }
        Assert.Contains("row 0, column 0 holds 300, not a colour 0..9",
            Assert.Throws<ArgumentException>(() => ArcGrid.FromRows([300])).Message, StringComparison.Ordinal);
        Assert.Contains("row 1, column 0 holds -1",
            Assert.Throws<ArgumentException>(() => ArcGrid.FromRows([1], [-1])).Message, StringComparison.Ordinal);
        Assert.Contains("row 1 is null",
            Assert.Throws<ArgumentException>(() => ArcGrid.FromRows([1], null!)).Message, StringComparison.Ordinal);
        Assert.Contains("at most 30 x 30; got 1 x 31",
            Assert.Throws<ArgumentException>(() => ArcGrid.FromRows(new int[31])).Message, StringComparison.Ordinal);
        Assert.Equal("cols", Assert.Throws<ArgumentException>(() => new ArcGrid(2, 31, new byte[62])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => new ArcGrid(31, 2, new byte[62])).ParamName);
    }

    [Fact]
    public void A_task_the_model_never_saw_is_refused()
    {
        var rng = new HrmRandom(8);
        ArcTask task = RandomTask(rng) with { Id = "unseen" };
        (ArcIdentifiers ids, _) = Identifiers(rng, augmented: 2);
        bool called = false;
        var e = Assert.Throws<ArcTaskNotTrainedException>(() => new ArcTaskSolver(ids).Solve(task, (_, _) =>
        {
            called = true;
            return ([], []);
        }));
        Assert.False(called);
        Assert.Equal(("unseen", "ids.json"), (e.TaskId, e.IdentifiersPath));
        Assert.Contains("'unseen' has no views in ids.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("only solves tasks whose demonstrations it was trained on", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_predictor_returning_the_wrong_shapes_is_reported()
    {
        var rng = new HrmRandom(9);
        ArcTask task = RandomTask(rng);
        (ArcIdentifiers ids, _) = Identifiers(rng, augmented: 1);
        var solver = new ArcTaskSolver(ids);
        ArcPredictor oneLogit = (tok, pid) => (new int[tok.Length], new float[1]);
        ArcPredictor shortTokens = (tok, pid) => (new int[tok.Length - 1], new float[pid.Length]);
        ArcPredictor fine = (tok, pid) => (new int[tok.Length], new float[pid.Length]);
        var e = Assert.Throws<InvalidOperationException>(() => solver.Solve(task, oneLogit));
        Assert.Contains("N = 4 logits", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => solver.Solve(task, shortTokens));
        Assert.Equal(2, solver.Solve(task, fine).Tests.Count);   // all empty predictions: no attempts, all dropped
        Assert.All(solver.Solve(task, fine).Tests, t => Assert.Equal((0, 2), (t.Attempts.Count, t.DroppedViews)));
        Assert.Throws<ArgumentException>(() => solver.Solve(task with { Test = [] }, fine));
    }
}
