using System.Globalization;
using System.Text;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

/// <summary>
/// metrics.jsonl: one JSON object per logged step or evaluation, keys named as the reference logs them
/// (<c>train/lm_loss</c>, <c>eval/exact_accuracy</c>, ...) plus <c>step</c>. Each line is flushed.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _w;

    /// <summary>
    /// Opens the log; when resuming at <paramref name="resumeStep"/>, the lines of later steps are dropped first, and
    /// so are lines that are not whole records (what <see cref="MetricsLogReader"/> reads), such as the torn last line
    /// of a run killed while writing it: appending after it would make the file unreadable (<see cref="DroppedLines"/>;
    /// blank lines are dropped without a word).
    /// </summary>
    public MetricsLog(string path, long resumeStep = -1)
    {
        Path = path;
        if (resumeStep >= 0 && File.Exists(path))
        {
            var kept = new List<string>();
            var dropped = new List<int>();
            int number = 0;
            foreach (string line in TextLines.Read(path, "metrics log"))
            {
                number++;
                if (line.Trim().Length == 0) continue; // the reader skips blank lines too
                long step = MetricsLogReader.StepOf(line);
                if (step < 0) dropped.Add(number);
                else if (step <= resumeStep) kept.Add(line);
            }
            File.WriteAllLines(path + ".tmp", kept);
            File.Move(path + ".tmp", path, overwrite: true);
            DroppedLines = dropped;
        }
        _w = new StreamWriter(path, append: resumeStep >= 0, new UTF8Encoding(false));
    }

    public string Path { get; }

    /// <summary>Line numbers (from 1) of the lines a resume dropped for not being whole records.</summary>
    public IReadOnlyList<int> DroppedLines { get; } = [];

    public void Write(long step, IReadOnlyDictionary<string, double> values)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{{\"step\":{step}");
        foreach ((string k, double v) in values)
        {
            string num = double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : $"\"{v.ToString(CultureInfo.InvariantCulture)}\"";
            sb.Append(CultureInfo.InvariantCulture, $",\"{k}\":{num}");
        }
        sb.Append('}');
        _w.WriteLine(sb.ToString());
        _w.Flush();
    }

    public void Dispose() => _w.Dispose();
}
