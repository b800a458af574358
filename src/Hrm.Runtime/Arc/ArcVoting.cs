using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Arc;

/// <summary>
/// The reference's ARC evaluation (spec 6.3, <c>arc_eval.ipynb</c>). Rows of un-augmented puzzles (names without
/// '_') give the ground truth: cropped input → cropped label. Every row (all views, the original included) has
/// its cropped input and prediction de-augmented with the view in its name and votes for that prediction with
/// sigmoid(q_halt). Candidates rank by count, then mean q, descending (first seen first on full ties, like
/// Python's stable sort). A task counts as solved at k only when every labelled test input has its label among
/// its top k candidates.
/// </summary>
public sealed class ArcVoting
{
    /// <summary>The k values the reference reports.</summary>
    public static readonly IReadOnlyList<int> DefaultKs = [1, 2, 10, 100, 1000];

    private readonly Dictionary<string, TaskVotes> _tasks = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private long _rows;
    private long _malformed;

    /// <summary>
    /// Records the label of one test input of <paramref name="task"/> (the first one wins on repeats).
    /// </summary>
    /// <param name="task">Task id.</param>
    /// <param name="input">The test input (original frame).</param>
    /// <param name="label">Its expected output.</param>
    public void AddLabel(string task, ArcGrid input, ArcGrid label)
    {
        TaskVotes t = Task(task);
        if (t.Labels.TryAdd(input, label)) t.Inputs.Add(input);
    }

    /// <summary>Adds one view's vote for a test input of <paramref name="task"/>.</summary>
    /// <param name="task">Task id.</param>
    /// <param name="input">The view's input, de-augmented.</param>
    /// <param name="prediction">The view's prediction, de-augmented.</param>
    /// <param name="q">sigmoid(q_halt) of the row.</param>
    public void AddPrediction(string task, ArcGrid input, ArcGrid prediction, double q)
    {
        TaskVotes t = Task(task);
        if (!t.Votes.TryGetValue(input, out Dictionary<ArcGrid, Tally>? votes)) t.Votes[input] = votes = [];
        if (!votes.TryGetValue(prediction, out Tally? tally)) votes[prediction] = tally = new Tally(votes.Count);
        tally.Count++;
        tally.SumQ += q;
    }

    /// <summary>
    /// Adds one evaluated row: crops its input, label and prediction (spec 6.3), records the label when the row is
    /// an original view, and votes with the de-augmented prediction.
    /// </summary>
    /// <param name="name">The row's puzzle name from identifiers.json.</param>
    /// <param name="input">900 input tokens.</param>
    /// <param name="label">900 label tokens (-100 or 0 where ignored).</param>
    /// <param name="predicted">900 predicted tokens (argmax).</param>
    /// <param name="qHaltLogit">The row's q_halt logit.</param>
    public void AddRow(string name, ReadOnlySpan<int> input, ReadOnlySpan<int> label, ReadOnlySpan<int> predicted,
        float qHaltLogit)
    {
        _rows++;
        if (ArcView.Parse(name) is not (string task, ArcView view))
        {
            _malformed++;
            return;
        }
        ArcGrid x = ArcEncoding.Crop(input);
        if (ReferenceEquals(view, ArcView.Original)) AddLabel(task, x, ArcEncoding.Crop(label));
        ArcGrid xs, ys;
        try
        {
            (xs, ys) = (view.Undo(x), view.Decode(predicted));
        }
        catch (ArgumentException)
        {
            _malformed++;
            return;
        }
        AddPrediction(task, xs, ys, Confidence(qHaltLogit));
    }

    /// <summary>A row's vote weight: sigmoid(q_halt logit).</summary>
    /// <param name="qHaltLogit">The row's q_halt logit.</param>
    /// <returns>A confidence in (0, 1).</returns>
    public static double Confidence(float qHaltLogit) => 1 / (1 + Math.Exp(-qHaltLogit));

    /// <summary>The candidates for one test input, best first.</summary>
    /// <param name="task">Task id.</param>
    /// <param name="input">The test input.</param>
    /// <returns>Ranked candidates (empty when there are no votes).</returns>
    public IReadOnlyList<ArcCandidate> Ranked(string task, ArcGrid input)
    {
        if (!_tasks.TryGetValue(task, out TaskVotes? t)) return [];
        if (!t.Votes.TryGetValue(input, out Dictionary<ArcGrid, Tally>? v)) return [];
        return [.. v.OrderByDescending(kv => kv.Value.Count).ThenByDescending(kv => kv.Value.MeanQ)
            .ThenBy(kv => kv.Value.FirstSeen).Select(kv => new ArcCandidate(kv.Key, kv.Value.Count, kv.Value.MeanQ))];
    }

    /// <summary>pass@k for each k.</summary>
    /// <param name="ks">The k values (default <see cref="DefaultKs"/>).</param>
    /// <returns>The score.</returns>
    public ArcScore Score(IReadOnlyList<int>? ks = null)
    {
        ks ??= DefaultKs;
        int[] solved = new int[ks.Count];
        int tasks = 0;
        long unmatched = _malformed;
        foreach (string id in _order)
        {
            TaskVotes t = _tasks[id];
            foreach ((ArcGrid input, Dictionary<ArcGrid, Tally> v) in t.Votes)
            {
                if (!t.Labels.ContainsKey(input)) unmatched += v.Values.Sum(x => x.Count);
            }
            if (t.Inputs.Count == 0) continue;
            tasks++;
            int[] rank = [.. t.Inputs.Select(x => Rank(id, x, t.Labels[x]))];
            for (int i = 0; i < ks.Count; i++)
            {
                if (rank.All(r => r >= 0 && r < ks[i])) solved[i]++;
            }
        }
        return new ArcScore(ks, solved, tasks, _rows, unmatched);
    }

    /// <summary>
    /// Writes the ARC Prize submission (<c>{task: [{"attempt_1": grid, "attempt_2": grid}, ...]}</c>, one entry per
    /// labelled test input in dataset order) to a temporary file renamed over <paramref name="path"/>. A test input
    /// with one candidate repeats it; one without votes gets [[0]].
    /// </summary>
    /// <param name="path">The JSON file.</param>
    public void WriteSubmission(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var file = new AtomicFileWriter(path);
        using (var w = new Utf8JsonWriter(file.Stream))
        {
            w.WriteStartObject();
            foreach (string id in _order)
            {
                TaskVotes t = _tasks[id];
                if (t.Inputs.Count == 0) continue;
                w.WriteStartArray(id);
                foreach (ArcGrid input in t.Inputs)
                {
                    IReadOnlyList<ArcCandidate> ranked = Ranked(id, input);
                    ArcGrid none = ArcGrid.FromRows([0]);
                    w.WriteStartObject();
                    WriteGrid(w, "attempt_1", ranked.Count > 0 ? ranked[0].Grid : none);
                    WriteGrid(w, "attempt_2", ranked.Count > 1 ? ranked[1].Grid : ranked.Count > 0 ? ranked[0].Grid
                        : none);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        file.Commit();
    }

    private int Rank(string task, ArcGrid input, ArcGrid label)
    {
        IReadOnlyList<ArcCandidate> ranked = Ranked(task, input);
        for (int i = 0; i < ranked.Count; i++)
        {
            if (ranked[i].Grid.Equals(label)) return i;
        }
        return -1;
    }

    private static void WriteGrid(Utf8JsonWriter w, string key, ArcGrid g)
    {
        w.WriteStartArray(key);
        for (int r = 0; r < g.Rows; r++)
        {
            w.WriteStartArray();
            for (int c = 0; c < g.Cols; c++) w.WriteNumberValue(g[r, c]);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private TaskVotes Task(string task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!_tasks.TryGetValue(task, out TaskVotes? t))
        {
            _tasks[task] = t = new TaskVotes();
            _order.Add(task);
        }
        return t;
    }

    private sealed class TaskVotes
    {
        public List<ArcGrid> Inputs { get; } = [];

        public Dictionary<ArcGrid, ArcGrid> Labels { get; } = [];

        public Dictionary<ArcGrid, Dictionary<ArcGrid, Tally>> Votes { get; } = [];
    }

    private sealed class Tally(int firstSeen)
    {
        public int FirstSeen { get; } = firstSeen;

        public int Count { get; set; }

        public double SumQ { get; set; }

        public double MeanQ => SumQ / Count;
    }
}
