using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Hrm.Bench.Compare;

/// <summary>
/// The comparison table as Markdown, and its place in docs/benchmarks.md: a section between two marker comments,
/// replaced on every run (placed first, newest first, when absent); the same numbers as JSON beside it.
/// </summary>
public static class CompareReport
{
    public const string BeginMarker = "<!-- hrm-bench compare: begin (generated; replaced on every run) -->";
    public const string EndMarker = "<!-- hrm-bench compare: end -->";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public const string Header =
        "| case | shape | ours ms | TorchSharp ms | speed-up | target | check (rel. L2) |\n|---|---|---:|---:|---:|---:|---|";

    public static string Row(CompareResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Case} | {r.Shape} | {r.OursMs:F1} | {r.TorchMs:F1} | {r.Speedup:F2}x | " +
        $"{(r.Target is double t ? $"≥{t:F1}x {r.Verdict}" : "—")} | {r.Agreement} |");

    /// <summary>The libtorch call the GEMM rows time now (<see cref="CompareCases.Gemm"/>); a JSON written before it
    /// was recorded timed <c>torch.matmul</c>.</summary>
    public const string GemmBaseline = "addmm_";

    public static string Markdown(IReadOnlyList<CompareResult> results, MachineInfo m,
        string gemmBaseline = GemmBaseline)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"## {m.DateUtc:yyyy-MM-dd} — ours vs the TorchSharp twin (`hrm-bench compare`), {m.Threads} threads each\n\n");
        string prose = string.Create(CultureInfo.InvariantCulture,
            $"Machine: {m.Summary}; {m.LoadAfter} after ({m.Minutes:F1} minutes). ") +
            "Same weights (the reference's init, seed 1) loaded from one safetensors file into both; fp32; " +
            "outputs compared before timing (last column). Medians of the timed rounds (ours and TorchSharp " +
            "alternate, after one warm-up call each; each timed call follows an untimed call of the same side, so " +
            "neither runs while the other's idle threads still spin); speed-up = TorchSharp ms / ours ms (above 1: " +
            "ours faster). " +
            "Segment forward: one segment, no gradient (TorchSharp in inference mode, SDPA attention). Solve: " +
            "a fresh carry and 16 segments, logits read back. Training step: ACT reset, recorded segment, " +
            "Q-target segment, stablemax + Q BCE loss, 1-step backward, AdamATan2 and SignSGD. GEMM: " +
            (gemmBaseline == GemmBaseline
                ? "our `CpuOps.MatmulForward` against `y.addmm_(x, W.t(), beta: 0)` (the GEMM of " +
                  "`torch.matmul(x, W.t())`), both into an output allocated once."
                : "our `CpuOps.MatmulForward` against `torch.matmul(x, W.t())`.");
        sb.Append(Wrap(prose)).Append("\n\n");
        sb.Append(Header).Append('\n');
        foreach (CompareResult r in results) sb.Append(Row(r)).Append('\n');
        sb.Append('\n').Append(Wrap("Reproduce: `dotnet run --project src/Hrm.Bench -c Release -- compare [threads]` " +
            "(numbers also in `docs/benchmarks-compare.json`).")).Append('\n');
        return sb.ToString();
    }

    /// <summary>Re-renders the section of docs/benchmarks.md from a JSON file this command wrote (wording changes).</summary>
    public static void Render(string jsonPath, TextWriter o)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        MachineInfo m = doc.RootElement.GetProperty("machine").Deserialize<MachineInfo>()
            ?? throw new InvalidDataException($"{jsonPath}: no machine");
        var results = doc.RootElement.GetProperty("results").EnumerateArray().Select(r => new CompareResult(
            r.GetProperty("Case").GetString()!, r.GetProperty("Shape").GetString()!, r.GetProperty("Reps").GetInt32(),
            r.GetProperty("OursMs").GetDouble(), r.GetProperty("TorchMs").GetDouble(),
            r.GetProperty("Target").ValueKind == JsonValueKind.Number ? r.GetProperty("Target").GetDouble() : null,
            r.GetProperty("check").GetString()!)).ToList();
        string gemm = doc.RootElement.TryGetProperty("gemmBaseline", out JsonElement g) && g.GetString() is string b
            ? b : "torch.matmul";
        Write(results, m, o, gemm);
    }

    /// <summary>Breaks prose into lines of at most 110 characters (the docs' width).</summary>
    private static string Wrap(string text, int width = 110)
    {
        var sb = new StringBuilder();
        int line = 0;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line > 0 && line + 1 + word.Length > width)
            {
                sb.Append('\n');
                line = 0;
            }
            else if (line > 0)
            {
                sb.Append(' ');
                line++;
            }
            sb.Append(word);
            line += word.Length;
        }
        return sb.ToString();
    }

    /// <summary>Writes the section into docs/benchmarks.md and the JSON beside it (root found from the working directory).</summary>
    public static void Write(IReadOnlyList<CompareResult> results, MachineInfo m, TextWriter o,
        string gemmBaseline = GemmBaseline)
    {
        string? root = FindRoot(Directory.GetCurrentDirectory()) ?? FindRoot(AppContext.BaseDirectory);
        if (root == null)
        {
            o.WriteLine("compare: no Hrm.sln above the working directory; docs/benchmarks.md not written");
            return;
        }
        string md = Path.Combine(root, "docs", "benchmarks.md");
        string existing = File.Exists(md) ? File.ReadAllText(md) : "# Benchmarks\n";
        File.WriteAllText(md, Splice(existing, BeginMarker + "\n" + Markdown(results, m, gemmBaseline) + EndMarker + "\n"));
        string json = Path.Combine(root, "docs", "benchmarks-compare.json");
        var payload = new
        {
            machine = m,
            gemmBaseline,
            results = results.Select(r => new
            {
                r.Case, r.Shape, r.Reps, r.OursMs, r.TorchMs, r.Speedup, r.Target, r.Verdict, check = r.Agreement,
            }),
        };
        File.WriteAllText(json, JsonSerializer.Serialize(payload, Indented) + "\n");
        o.WriteLine($"compare: wrote {md} and {json}");
    }

    /// <summary>Replaces the marked section, or inserts it before the first "## " heading (newest first).</summary>
    public static string Splice(string doc, string section)
    {
        int begin = doc.IndexOf(BeginMarker, StringComparison.Ordinal);
        int end = doc.IndexOf(EndMarker, StringComparison.Ordinal);
        if (begin >= 0 && end > begin)
        {
            int after = end + EndMarker.Length;
            if (after < doc.Length && doc[after] == '\n') after++;
            return doc[..begin] + section + doc[after..];
        }
        int heading = doc.IndexOf("\n## ", StringComparison.Ordinal);
        return heading < 0 ? doc.TrimEnd('\n') + "\n\n" + section : doc[..(heading + 1)] + section + "\n" + doc[(heading + 1)..];
    }

    private static string? FindRoot(string start)
    {
        for (DirectoryInfo? d = new(start); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Hrm.sln"))) return d.FullName;
        }
        return null;
    }
}
