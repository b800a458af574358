using Hrm.Runtime.Arc;
using Hrm.Runtime.Formats;
using Hrm.Train.Data;
using Hrm.Train.Tests.Data;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary>
/// The runtime's <see cref="ArcTaskSolver"/> and the evaluation (<see cref="ArcEvalObserver"/> over a dataset's
/// test split) see the same rows and, given the same model, give the same attempts.
/// </summary>
public sealed class ArcTaskSolverAgreementTests : IDisposable
{
    private const int L = ArcEncoding.SeqLen, V = ArcEncoding.VocabSize;

    private static readonly string[] TaskFiles = ["00576224.json", "6ea4a07e.json"];   // 1 and 2 test inputs

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-arcsolve-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string P(string name) => Path.Combine(_dir.FullName, name);

    /// <summary>
    /// A deterministic fake model of one row: by puzzle id it predicts the right answer (2 in 5 ids), the test input
    /// (a wrong answer shared by views), a one-cell grid whose colour depends on the id, or nothing; q depends on
    /// the id too. It finds the answer by de-augmenting the row's input.
    /// </summary>
    private static void FakeRow(string[] names, Dictionary<string, ArcTask> tasks, ReadOnlySpan<int> input,
        int puzzleId, Span<int> predicted, out float qHalt)
    {
        (string task, ArcView view) = ArcView.Parse(names[puzzleId])!.Value;
        ArcGrid x = view.Decode(input);
        ArcPair pair = tasks[task].Test.First(p => p.Input.Equals(x));
        ArcGrid? answer = (puzzleId % 5) switch
        {
            0 or 1 => view.Apply(pair.Output),
            2 => view.Apply(pair.Input),
            3 => ArcGrid.FromRows([1 + puzzleId % 9]),
            _ => null,
        };
        predicted.Clear();
        if (answer is not null)
        {
            byte[] row = new byte[L];
            ArcEncoding.Encode(answer, 0, 0, row);
            for (int i = 0; i < L; i++) predicted[i] = row[i];
        }
        qHalt = (puzzleId * 7919 % 13 - 6) / 3f;
    }

    [Fact]
    public void The_solver_agrees_with_the_evaluation_on_real_tasks()
    {
        string? root = ArcTestData.SharedRoot();
        Assert.SkipWhen(root is null, ArcTestData.MissingReason);
        Directory.CreateDirectory(P("src/evaluation"));
        foreach (string f in TaskFiles) File.Copy(Path.Combine(root!, "ARC-AGI-1", "evaluation", f), P("src/evaluation/" + f));
        (List<ArcTask> built, List<HrmFormatException> errors) = ArcSources.Load(ArcSources.ListTasks([P("src")], 1));
        Assert.Empty(errors);
        ArcDatasetBuilder.Build(P("data"), built, new ArcBuildOptions { NumAug = 8, Seed = 11, Threads = 2 });
        string[] names = DatasetIdentifiers.Read(P("data"))!;
        Dictionary<string, ArcTask> tasks = built.ToDictionary(t => t.Id);

        // Evaluation: every test-split row through the observer, logits one-hot at the fake prediction, 4 rows a chunk.
        using PuzzleDataset test = PuzzleDataset.Open(P("data"), "test");
        var observer = new ArcEvalObserver(test, names, new ArcVoting());
        int[] input = new int[L], label = new int[L], predicted = new int[L];
        for (int first = 0; first < test.ExampleCount; first += 4)
        {
            int rows = Math.Min(4, test.ExampleCount - first);
            float[] logits = new float[rows * L * V], q = new float[rows];   // (rows, 900, V), (rows)
            for (int r = 0; r < rows; r++)
            {
                test.ReadExample(first + r, input, label);
                FakeRow(names, tasks, input, Evaluator.PuzzleOf(test, first + r), predicted, out q[r]);
                for (int i = 0; i < L; i++) logits[(r * L + i) * V + predicted[i]] = 1;
            }
            observer.Observe(first, rows, logits, q);
        }

        // The solver: the same fake model behind the predictor delegate, tasks read with the public loader.
        var solver = new ArcTaskSolver(ArcIdentifiers.Load(P("data/identifiers.json")));
        int compared = 0, dropped = 0;
        foreach (string f in TaskFiles)
        {
            ArcTask task = ArcTask.Load(P("src/evaluation/" + f));
            ArcTaskSolution s = solver.Solve(task, (tokens, ids) =>
            {
                int[] pred = new int[tokens.Length];
                float[] q = new float[ids.Length];
                for (int r = 0; r < ids.Length; r++)
                    FakeRow(names, tasks, tokens.Slice(r * L, L), ids[r], pred.AsSpan(r * L, L), out q[r]);
                return (pred, q);
            });
            Assert.Equal(9, s.Views);
            Assert.Equal(task.Test.Count, s.Tests.Count);
            for (int t = 0; t < task.Test.Count; t++)
            {
                IReadOnlyList<ArcCandidate> ranked = observer.Voting.Ranked(task.Id, task.Test[t].Input);
                ArcCandidate[] valid = [.. ranked.Where(c => c.Grid.Rows > 0 && c.Grid.Cols > 0)];
                Assert.Equal(valid.Take(ArcTaskSolver.Attempts), s.Tests[t].Attempts);
                Assert.Equal(valid.Length, s.Tests[t].Candidates);
                Assert.Equal(ranked.Where(c => c.Grid.Rows == 0).Sum(c => c.Count), s.Tests[t].DroppedViews);
                Assert.Equal(2, s.Tests[t].Attempts.Count);
                compared++;
                dropped += s.Tests[t].DroppedViews;
            }
        }
        Assert.Equal(3, compared);
        Assert.True(dropped > 0, "some views predicted no grid, so dropping was exercised");
        Assert.Equal(0, observer.Voting.Score().UnmatchedRows);
    }
}
