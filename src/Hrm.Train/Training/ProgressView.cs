using System.Diagnostics;
using System.Globalization;

namespace Hrm.Train.Training;

/// <summary>The live console line: a bar with ETA, loss, accuracy, exact accuracy, mean steps, samples/s.</summary>
public sealed class ProgressView
{
    private readonly TextWriter _o;
    private readonly bool _interactive;
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _lastDraw;
    private long _firstStep = -1;

    public ProgressView(TextWriter o, bool interactive)
    {
        _o = o;
        _interactive = interactive;
    }

    public void Update(long step, long total, int batch, IReadOnlyDictionary<string, double> m, bool force = false)
    {
        if (_firstStep < 0) _firstStep = step - 1;
        long now = Stopwatch.GetTimestamp();
        if (!force && Stopwatch.GetElapsedTime(_lastDraw, now).TotalMilliseconds < (_interactive ? 250 : 10000)) return;
        _lastDraw = now;
        double secs = Stopwatch.GetElapsedTime(_start, now).TotalSeconds;
        long done = step - _firstStep;
        double perStep = done > 0 ? secs / done : 0;
        string eta = Eta(perStep * Math.Max(0, total - step));
        int width = 24, fill = total > 0 ? (int)(width * Math.Min(1.0, (double)step / total)) : 0;
        string bar = new string('#', fill) + new string('.', width - fill);
        double Get(string k) => m.TryGetValue(k, out double v) ? v : double.NaN;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"[{bar}] {step}/{total} eta {eta} | loss {Get("train/lm_loss"):F4} acc {Get("train/accuracy"):F3} " +
            $"exact {Get("train/exact_accuracy"):F3} steps {Get("train/steps"):F2} | {(perStep > 0 ? batch / perStep : 0):F0} samples/s");
        if (_interactive) _o.Write("\r" + line + "   ");
        else _o.WriteLine(line);
    }

    /// <summary>The time left as hh:mm:ss, with whole days in front ("2d 03:04:05") and a cap at 999 days.</summary>
    internal static string Eta(double seconds)
    {
        if (!(seconds < 999 * 86400.0)) return ">999d"; // NaN too
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds)));
        string clock = t.ToString("hh\\:mm\\:ss", CultureInfo.InvariantCulture);
        return t.Days > 0 ? $"{t.Days}d {clock}" : clock;
    }

    public void Line(string text)
    {
        if (_interactive) _o.WriteLine();
        _o.WriteLine(text);
    }
}
