using System.Diagnostics;
using System.Globalization;

namespace Hrm.Train.Training;

/// <summary>
/// Progress of a long evaluation (the reference's Sudoku test split is 423k examples): a line with the examples done,
/// the rate and the time left, redrawn in place on a terminal (at most 4 times a second) or written every 10 s
/// otherwise (<paramref name="every"/> replaces both intervals). Says nothing for an evaluation that ends within its
/// first interval. Hand <see cref="Observe"/> to <see cref="Evaluator.Run"/> (alone or inside another observer).
/// </summary>
public sealed class EvalProgress(TextWriter output, int total, bool interactive, TimeSpan? every = null)
{
    private readonly TimeSpan _every = every ?? TimeSpan.FromMilliseconds(interactive ? 250 : 10_000);
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _lastDraw = Stopwatch.GetTimestamp();
    private bool _drawn;

    /// <summary>After each chunk: examples [first, first + rows) are done.</summary>
    public void Observe(int first, int rows, ReadOnlySpan<float> logits, ReadOnlySpan<float> qHalt)
    {
        int done = first + rows;
        long now = Stopwatch.GetTimestamp();
        if (done < total && Stopwatch.GetElapsedTime(_lastDraw, now) < _every) return;
        if (done >= total && !_drawn) return;
        _lastDraw = now;
        _drawn = true;
        double secs = Stopwatch.GetElapsedTime(_start, now).TotalSeconds;
        double rate = done / Math.Max(secs, 1e-9);
        TimeSpan left = TimeSpan.FromSeconds((total - done) / Math.Max(rate, 1e-9));
        string line = string.Create(CultureInfo.InvariantCulture,
            $"eval: {done:N0} of {total:N0} examples, {rate:F1}/s, {left:hh\\:mm\\:ss} left");
        if (!interactive) output.WriteLine(line);
        else output.Write("\r" + line + (done >= total ? "\n" : "   "));
    }
}
