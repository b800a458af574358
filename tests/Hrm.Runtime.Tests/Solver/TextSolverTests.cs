using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Numerics;
using Hrm.Runtime.Solver;

namespace Hrm.Runtime.Tests.Solver;

/// <summary>Text inputs of a task of one's own through <see cref="HrmSolver"/>: the token entry's answer,
/// decoded.</summary>
public sealed class TextSolverTests
{
    private static readonly SolverOptions Cpu = new() { Device = SolverDevice.Cpu, Threads = 2 };

    [Fact]
    public async Task Text_results_carry_the_model_answer_of_the_token_entry()
    {
        // 4 symbols + pad + end = vocab 6 over rows of 16: the tiny checkpoint's shape.
        TextAlphabet alphabet = TextAlphabet.Create("abcd", 16);
        using var ckpt = new TinyCheckpoint(seed: 3);
        using HrmSolver solver = HrmSolver.Load(ckpt.Path, Cpu);
        TextPuzzle[] inputs = [TextPuzzle.Parse("abcd", alphabet), TextPuzzle.Parse("dcbadcbadcbadcba", alphabet)];
        IReadOnlyList<TextResult> results = await solver.SolveAsync(inputs, TestContext.Current.CancellationToken);
        for (int i = 0; i < inputs.Length; i++)
        {
            TokenPrediction raw = solver.Predict(alphabet.Encode(inputs[i].Text), [0])[0];
            SolverEquivalenceTests.AssertSame(raw, results[i].Prediction);
            Assert.Equal(alphabet.Decode(raw.Tokens, out string? problem), results[i].Answer);
            Assert.Equal(problem, results[i].Problem);
            Assert.Same(inputs[i], results[i].Puzzle);
            Assert.Equal(ckpt.Config.HaltMaxSteps, results[i].Segments);
        }
        Assert.Equal(results[0].Answer, solver.Solve(inputs[0]).Answer);
        // A puzzle identifier reaches the model as the token entry's: the tiny checkpoint has 3 (0, 1, 2).
        TextResult named = solver.Solve(TextPuzzle.Parse("abcd", alphabet, puzzleIdentifier: 2));
        SolverEquivalenceTests.AssertSame(solver.Predict(alphabet.Encode("abcd"), [2])[0], named.Prediction);
        Assert.Equal(2, named.Puzzle.PuzzleIdentifier);
        Assert.Contains("puzzle identifier 3; the checkpoint has 3",
            Assert.Throws<ArgumentException>(() => solver.Solve(TextPuzzle.Parse("abcd", alphabet, 3))).Message,
            StringComparison.Ordinal);
        TextPuzzle other = TextPuzzle.Parse("ab", TextAlphabet.Create("abc", 16));
        string m = Assert.Throws<ArgumentException>(() => solver.Solve(other)).Message;
        Assert.Contains("vocabulary of 5", m, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => solver.Solve(TextPuzzle.Parse("ab", TextAlphabet.Create("abcd", 15))));
    }

    [Fact]
    public void A_text_model_answers_what_it_learnt_token_for_token()
    {
        // The tokens a text becomes are what the model sees: rows the CLI's dataset builder would write.
        TextAlphabet a = TextAlphabet.Create("0123456789", 8);
        HrmConfig c = TinyCheckpoint.Sudoku4() with { SeqLen = a.SeqLen, VocabSize = a.VocabSize, PuzzleEmbNdim = 0 };
        using var ckpt = new TinyCheckpoint(seed: 4, c);
        using HrmSolver solver = HrmSolver.Load(ckpt.Path, Cpu);
        TextResult r = solver.Solve(TextPuzzle.Parse("31415", a));
        Assert.Equal([5, 3, 6, 3, 7, 1, 0, 0], a.Encode("31415"));
        TokenPrediction raw = solver.Predict([5, 3, 6, 3, 7, 1, 0, 0], [0])[0];
        Assert.Equal(a.Decode(raw.Tokens, out _), r.Answer);
        Assert.Equal(r.IsValid, r.Problem is null);
    }

    [Fact]
    public void Views_solve_their_relabelled_text_and_vote_in_the_original_s_symbols()
    {
        TextAlphabet alphabet = TextAlphabet.Create("abcd", 16);
        using var ckpt = new TinyCheckpoint(seed: 5);   // identifiers 0, 1, 2
        using HrmSolver solver = HrmSolver.Load(ckpt.Path, Cpu);
        TextViews views = TextViews.FromNames(["<blank>", "g", "g|abcd>badc"], "identifiers.json");
        TextPuzzle input = TextPuzzle.Parse("abcdd", alphabet, puzzleIdentifier: 1);
        TextVote vote = solver.Solve([input], views)[0];
        Assert.Same(input, vote.Puzzle);
        Assert.Equal(2, vote.Views.Count);
        SolverEquivalenceTests.AssertSame(solver.Solve(input).Prediction, vote.Views[0].Prediction);
        TextResult relabelled = solver.Solve(TextPuzzle.Parse("badcc", alphabet, puzzleIdentifier: 2));
        Assert.Equal("badcc", vote.Views[1].Puzzle.Text);
        SolverEquivalenceTests.AssertSame(relabelled.Prediction, vote.Views[1].Prediction);
        string back = views.Of("g")![1].Undo(relabelled.Answer);   // b <-> a, d <-> c
        Assert.Equal(new string([.. relabelled.Answer.Select(c =>
            c switch { 'a' => 'b', 'b' => 'a', 'c' => 'd', 'd' => 'c', _ => c })]), back);
        Assert.Equal(vote.Views[0].Answer == back ? 1 : 2, vote.Candidates.Count);
        Assert.Contains(vote.Answer, (string[])[vote.Views[0].Answer, back]);
        Assert.Equal(2, vote.Candidates.Sum(c => c.Count));
        Assert.Equal(vote.Views.Sum(v => v.Segments), vote.Segments);
        TextVote alone = solver.Solve([input], views, maxViews: 1)[0];
        Assert.Equal((1, solver.Solve(input).Answer), (alone.Views.Count, alone.Answer));
        string m = Assert.Throws<ArgumentException>(() =>
            solver.Solve([TextPuzzle.Parse("ab", alphabet, 2)], views)).Message;
        Assert.Contains("not a group's own view", m, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vote_ranks_well_formed_answers_then_votes_then_mean_confidence_then_the_first_view()
    {
        TextAlphabet a = TextAlphabet.Create("ab", 4);
        TextPuzzle input = TextPuzzle.Parse("ab", a, 1);
        TextResult R(string answer, float qHalt)
        {
            int[] tokens = answer == "!" ? [2, 0, 3, 1] : a.Encode(answer);   // "!": padding before the end (not valid)
            return TextResult.From(input, new TokenPrediction(tokens, qHalt, 0, 2, 1, TimeSpan.Zero));
        }
        TextView same = new(1, "", "");
        // Two views each for "ab" and "ba"; "ba"'s more confident; one malformed answer, most confident of all.
        TextVote v = TextVote.Count(input, [same, same, same, same, same],
            [R("ab", 0f), R("!", 9f), R("ba", 1f), R("ab", 0f), R("ba", 2f)]);
        Assert.Equal(["ba", "ab", "a?b"], v.Candidates.Select(c => c.Answer));
        Assert.Equal([2, 2, 1], v.Candidates.Select(c => c.Count));
        Assert.Equal((true, 2), (v.IsValid, v.Votes));
        Assert.Equal((Logits.Sigmoid(1f) + Logits.Sigmoid(2f)) / 2, v.Candidates[0].MeanConfidence, 12);
        Assert.False(v.Candidates[2].IsValid);
        // A full tie: the first view's answer first; more votes beat more confidence.
        Assert.Equal("ab", TextVote.Count(input, [same, same], [R("ab", 1f), R("ba", 1f)]).Answer);
        Assert.Equal("ab", TextVote.Count(input, [same, same, same], [R("ba", 5f), R("ab", 0f), R("ab", 0f)]).Answer);
        Assert.False(TextVote.Count(input, [same], [R("!", 0f)]).IsValid);   // nothing well formed: the best of those
        Assert.Equal("ab", TextVote.Count(input, [same, same, same], [R("!", 0f), R("!", 0f), R("ab", 0f)]).Answer);
        // Answers are written back by their view before they are counted.
        TextView swap = new(2, "ab", "ba");
        TextVote w = TextVote.Count(input, [same, swap], [R("ab", 0f), R("ba", 0f)]);
        Assert.Equal((1, "ab", 2), (w.Candidates.Count, w.Answer, w.Votes));
    }

    [Fact]
    public void Views_are_read_from_names_a_relabelling_after_a_group_s_name()
    {
        TextViews v = TextViews.FromNames(["<blank>", "g", "h|a>b", "g|abc>cab", "k|ab>ba", "g|ab>ab", "g|ab>bb", "h"],
            "ids.json");
        Assert.Equal(["g", "g|abc>cab", "g|ab>ab"], v.Of("g")!.Select(x => x.Name("g")));
        Assert.Equal([1, 3, 5], v.Of("g")!.Select(x => x.PuzzleIdentifier));
        // Groups: g, h|a>b (not a permutation), k|ab>ba (no group k), g|ab>bb, h.
        Assert.Equal((5, 3), (v.Count, v.ViewCount));
        Assert.Null(v.Of("k"));
        Assert.NotNull(v.Of("k|ab>ba"));
        Assert.Equal(("g", null, "h"), (v.GroupOf(1), v.GroupOf(3), v.GroupOf(7)));
        TextView cab = v.Of("g")![1];
        Assert.Equal("cabd", cab.Apply("abcd"));
        Assert.Equal("abcd", cab.Undo(cab.Apply("abcd")));
        foreach (string bad in (string[])["", ">", "a>", "ab>ba>", "aa>aa", "ab>ab ", "ab<ba"])
            Assert.Null(TextView.ParseRelabelling(bad));
        Assert.Equal(("a>b", "b>a"), TextView.ParseRelabelling("a>b>b>a"));   // '>' may be a symbol
        HrmFormatException e = Assert.Throws<HrmFormatException>(() => TextViews.FromNames(["<blank>", "g", "g"], "x"));
        Assert.Equal("identifiers[2]", e.Field);
        Assert.Throws<HrmFormatException>(() => TextViews.FromNames(["g"], "x"));
    }
}
