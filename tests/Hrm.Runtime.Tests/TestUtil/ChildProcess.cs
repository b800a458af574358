using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// Runs a process to completion with its output captured: this test executable again (a child run of some test
/// classes under another environment: the GPU emulator, a narrower SIMD width) or a tool, and reads xunit's summary.
/// </summary>
internal static partial class ChildProcess
{
    /// <summary>This test executable: the apphost when there is one, else <c>dotnet</c> with the dll.</summary>
    public static (string File, List<string> Args) TestExecutable()
    {
        string exe = Path.Combine(AppContext.BaseDirectory, "Hrm.Runtime.Tests");
        string dll = Path.Combine(AppContext.BaseDirectory, "Hrm.Runtime.Tests.dll");
        return File.Exists(exe) ? (exe, []) : ("dotnet", [dll]);
    }

    /// <summary>Exit code and interleaved stdout/stderr; killed (exit -1, said in the log) after
    /// <paramref name="timeoutMs"/>.</summary>
    public static (int Rc, string Log) Run(string file, IEnumerable<string> args, Dictionary<string, string>? env,
        int timeoutMs)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        if (env != null)
            foreach ((string k, string v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var log = new StringBuilder();
        var gate = new Lock();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (gate) log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (gate) log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            lock (gate) return (-1, log + $"\n(killed after {timeoutMs / 1000} s)");
        }
        p.WaitForExit();
        lock (gate) return (p.ExitCode, log.ToString());
    }

    /// <summary>The counts of xunit's summary line in a child run's log, or null when there is none.</summary>
    public static (int Total, int Errors, int Failed, int Skipped)? Counts(string log)
    {
        Match m = SummaryLine().Match(log);
        if (!m.Success) return null;
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value),
            int.Parse(m.Groups[4].Value));
    }

    /// <summary>The failed tests' blocks of an xunit log, plus lines containing <paramref name="keep"/> (or the log's
    /// tail when none is marked).</summary>
    public static string Failures(string log, string? keep = null)
    {
        var sb = new StringBuilder();
        bool inFail = false;
        foreach (string line in log.Split('\n'))
        {
            if (line.Contains("[FAIL]", StringComparison.Ordinal)) inFail = true;
            else if (line.Contains("[PASS]", StringComparison.Ordinal) || line.Contains("[SKIP]", StringComparison.Ordinal))
                inFail = false;
            if (inFail || keep != null && line.Contains(keep, StringComparison.Ordinal)) sb.AppendLine(line);
        }
        return sb.Length > 0 ? Tail(sb.ToString(), 200) : Tail(log, 80);
    }

    /// <summary>The first file named <paramref name="name"/> in a PATH directory, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>The repository root (the folder with Hrm.sln) above the test binaries, or null (a published
    /// copy).</summary>
    public static string? RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Hrm.sln"))) return d.FullName;
        }
        return null;
    }

    public static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    /// <summary>The SDK that runs these tests (dotnet test sets DOTNET_HOST_PATH), else the first dotnet on PATH, or
    /// null.</summary>
    public static string? Dotnet() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } host && File.Exists(host) ? host : FindOnPath("dotnet");

    /// <summary>Whether a failed dotnet command's log says packages could not be restored (no NuGet feed or no
    /// network): a reason to skip, not a failure of ours.</summary>
    public static bool IsRestoreFailure(string log) => RestoreFailure().IsMatch(log);

    /// <summary>The lines of a build log that carry a coded warning ("warning IL2026", "warning CS0168", ...).</summary>
    public static string[] Warnings(string log) => [.. log.Split('\n').Where(l => CodedWarning().IsMatch(l))];

    [GeneratedRegex(@"NU1100|NU1101|NU1102|NU1301|NU1900|NETSDK1112|NETSDK1084")]
    private static partial Regex RestoreFailure();

    [GeneratedRegex(@"\bwarning [A-Z]+[0-9]+")]
    private static partial Regex CodedWarning();

    [GeneratedRegex(@"Total: (\d+), Errors: (\d+), Failed: (\d+), Skipped: (\d+)")]
    private static partial Regex SummaryLine();
}
