using System.Globalization;
using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Training;

/// <summary>One line of metrics.jsonl: the step and every value logged with it.</summary>
/// <param name="Step">The optimizer step.</param>
/// <param name="Values">Key (e.g. <c>train/lm_loss</c>) to value; non-finite values come back as NaN or ±infinity.</param>
public sealed record MetricsEntry(long Step, IReadOnlyDictionary<string, double> Values);

/// <summary>Reads what <see cref="MetricsLog"/> writes, strictly: every malformed line is an error naming its number.</summary>
public static class MetricsLogReader
{
    /// <summary>Reads every non-blank line of <paramref name="path"/>. With <paramref name="lastLineWarnings"/>, a
    /// last line that is not a record (the line a running trainer is writing, or the torn one of a killed run, which
    /// a resume drops too) is left out with a warning there instead of failing the read.</summary>
    /// <exception cref="HrmFormatException">A line is not a JSON object with an integer "step" and number values.</exception>
    public static List<MetricsEntry> Read(string path, List<string>? lastLineWarnings = null)
    {
        var entries = new List<MetricsEntry>();
        int number = 0;
        HrmFormatException? pending = null; // a bad line: an error unless it proves to be the last
        foreach (string line in TextLines.Read(path, "metrics log"))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            if (pending != null) throw pending;
            try
            {
                entries.Add(Parse(path, number, line));
            }
            catch (HrmFormatException e) when (lastLineWarnings != null)
            {
                pending = e;
            }
        }
        if (pending != null)
            lastLineWarnings!.Add($"{pending.Message}; the last line, left out (a run still writing it?)");
        return entries;
    }

    /// <summary>The step of a line <see cref="Read"/> accepts, else -1 (what a resume keeps: see
    /// <see cref="MetricsLog"/>).</summary>
    internal static long StepOf(string line)
    {
        try
        {
            return Parse("", 0, line).Step;
        }
        catch (HrmFormatException)
        {
            return -1;
        }
    }

    private static MetricsEntry Parse(string path, int number, string line)
    {
        string where = $"line {number}";
        JsonDocument doc;
        try
        {
            doc = JsonText.Parse(line);
        }
        catch (JsonException e)
        {
            throw new HrmFormatException(path, where, $"not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (JsonText.FirstBadText(doc.RootElement) is { } bad) throw new HrmFormatException(path, $"{where}: {bad}", JsonText.BadTextMessage);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new HrmFormatException(path, where, $"expected a JSON object, got {doc.RootElement.ValueKind}");
            long step = -1;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "step")
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out step) || step < 0)
                        throw new HrmFormatException(path, where, $"\"step\" must be a non-negative integer, got {p.Value.GetRawText()}");
                    continue;
                }
                values[p.Name] = Value(path, where, p);
            }
            if (step < 0) throw new HrmFormatException(path, where, "no \"step\" key");
            return new MetricsEntry(step, values);
        }
    }

    private static double Value(string path, string where, JsonProperty p)
    {
        if (p.Value.ValueKind == JsonValueKind.Number) return p.Value.GetDouble();
        // MetricsLog writes non-finite values as strings, the way .NET formats them.
        if (p.Value.ValueKind == JsonValueKind.String)
        {
            string s = p.Value.GetString()!;
            if (s is "NaN" or "Infinity" or "-Infinity")
                return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        throw new HrmFormatException(path, where, $"\"{p.Name}\" must be a number (or \"NaN\"/\"Infinity\"), got {p.Value.GetRawText()}");
    }
}
