using System.Globalization;
using System.Text;

namespace Hrm.Train.Training;

/// <summary>
/// metrics.jsonl: one JSON object per logged step or evaluation, keys named as the reference logs them
/// (<c>train/lm_loss</c>, <c>eval/exact_accuracy</c>, ...) plus <c>step</c>. Each line is flushed.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _w;

    /// <summary>Opens the log; when resuming at <paramref name="resumeStep"/>, later lines are dropped first.</summary>
    public MetricsLog(string path, long resumeStep = -1)
    {
        Path = path;
        if (resumeStep >= 0 && File.Exists(path))
        {
            var kept = File.ReadAllLines(path).Where(l => StepOf(l) <= resumeStep).ToArray();
            File.WriteAllLines(path + ".tmp", kept);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        _w = new StreamWriter(path, append: resumeStep >= 0, new UTF8Encoding(false));
    }

    public string Path { get; }

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

    private static long StepOf(string line)
    {
        int i = line.IndexOf("\"step\":", StringComparison.Ordinal);
        if (i < 0) return long.MaxValue;
        int j = i + 7, k = j;
        while (k < line.Length && char.IsAsciiDigit(line[k])) k++;
        return long.TryParse(line.AsSpan(j, k - j), NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ? s : long.MaxValue;
    }
}
