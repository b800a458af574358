using Hrm.Runtime.Arc;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Data;

/// <summary>One task's encoded views for the train and test splits (what a worker hands to the writer).</summary>
internal sealed class ArcTaskOutput
{
    private const int L = ArcEncoding.SeqLen;

    private ArcTaskOutput(string taskId, string[] names, int trainPairs, int testPairs)
    {
        TaskId = taskId;
        Names = names;
        TrainPairs = trainPairs;
        TestPairs = testPairs;
        TrainInputs = new byte[names.Length * trainPairs * L];    // (views, pairs, 900)
        TrainLabels = new byte[TrainInputs.Length];
        TestInputs = new byte[names.Length * testPairs * L];
        TestLabels = new byte[TestInputs.Length];
    }

    public string TaskId { get; }

    /// <summary>Puzzle name of each view.</summary>
    public string[] Names { get; }

    public int TrainPairs { get; }

    public int TestPairs { get; }

    public byte[] TrainInputs { get; }

    public byte[] TrainLabels { get; }

    public byte[] TestInputs { get; }

    public byte[] TestLabels { get; }

    /// <summary>Augments and encodes task <paramref name="index"/> from its own generator.</summary>
    public static ArcTaskOutput Make(ArcTask task, int index, ArcBuildOptions options)
    {
        HrmRandom rng = DerivedRandom.For(options.Seed, index);
        List<ArcView> views = ArcAugment.Views(task, options.NumAug, rng);
        ArcPair[] trainPairs = task.IsEvaluation ? [.. task.Train] : [.. task.AllPairs];
        ArcPair[] testPairs = task.IsEvaluation ? [.. task.Test] : [];
        string[] names = [.. views.Select(v => v.Name(task.Id))];
        var o = new ArcTaskOutput(task.Id, names, trainPairs.Length, testPairs.Length);
        for (int v = 0; v < views.Count; v++)
        {
            int keep = rng.NextInt(0, trainPairs.Length);
            for (int p = 0; p < trainPairs.Length; p++)
            {
                ArcGrid input = views[v].Apply(trainPairs[p].Input), output = views[v].Apply(trainPairs[p].Output);
                int padRow = 0, padCol = 0;
                if (p != keep)
                {
                    padRow = rng.NextInt(0, ArcEncoding.Side - Math.Max(input.Rows, output.Rows) + 1);
                    padCol = rng.NextInt(0, ArcEncoding.Side - Math.Max(input.Cols, output.Cols) + 1);
                }
                int at = (v * trainPairs.Length + p) * L;
                ArcEncoding.Encode(input, padRow, padCol, o.TrainInputs.AsSpan(at, L));
                ArcEncoding.Encode(output, padRow, padCol, o.TrainLabels.AsSpan(at, L));
            }
            for (int p = 0; p < testPairs.Length; p++)
            {
                int at = (v * testPairs.Length + p) * L;
                ArcEncoding.Encode(views[v].Apply(testPairs[p].Input), 0, 0, o.TestInputs.AsSpan(at, L));
                ArcEncoding.Encode(views[v].Apply(testPairs[p].Output), 0, 0, o.TestLabels.AsSpan(at, L));
            }
        }
        return o;
    }

    /// <summary>
    /// Appends this task's group to each split it has pairs in, naming puzzles through <paramref name="id"/>.
    /// </summary>
    public void WriteTo(DatasetStreamWriter train, DatasetStreamWriter test, Func<string, int> id)
    {
        Write(train, TrainPairs, TrainInputs, TrainLabels, id);
        Write(test, TestPairs, TestInputs, TestLabels, id);
    }

    private void Write(DatasetStreamWriter w, int pairs, byte[] inputs, byte[] labels, Func<string, int> id)
    {
        if (pairs == 0) return;
        for (int v = 0; v < Names.Length; v++)
        {
            for (int p = 0; p < pairs; p++)
            {
                int at = (v * pairs + p) * L;
                w.AddExample(inputs.AsSpan(at, L), labels.AsSpan(at, L));
            }
            w.EndPuzzle(id(Names[v]));
        }
        w.EndGroup();
    }
}
