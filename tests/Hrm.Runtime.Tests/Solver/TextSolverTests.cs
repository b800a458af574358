using Hrm.Runtime.Config;
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
}
