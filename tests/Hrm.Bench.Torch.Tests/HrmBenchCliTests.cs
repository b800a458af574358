using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Bench.Torch.Tests;

/// <summary>
/// The <c>hrm-bench</c> command line (src/Hrm.Bench, which this project references for the build order only) run as
/// a child process: a bad argument ends with exit code 2 and one line that names it, and a small timing command
/// prints its table. Skipped where the tool is not built beside these tests' configuration.
/// </summary>
public sealed class HrmBenchCliTests
{
    private const int TimeoutMs = 2 * 60 * 1000;

    [Theory]
    [InlineData("quick 2 x", "quick: unexpected argument 'x'; usage: hrm-bench quick [THREADS]")]
    [InlineData("optim -1", "optim: THREADS expects an integer of at least 0, got '-1'")]
    [InlineData("profile no-such-preset", "unknown preset 'no-such-preset'")]
    [InlineData("profile-train tiny 0", "profile-train: BATCH expects an integer of at least 1, got '0'")]
    [InlineData("attention 1 2,9,1", "attention: a shape is B,T,NH,HS (four integers of at least 1), got '2,9,1'")]
    [InlineData("attention 1 2,9,0,16", "got '2,9,0,16'")]
    [InlineData("gpu-profile tiny 1 2 3", "gpu-profile: unexpected argument '3'")]
    [InlineData("gemm 1", "gemm: unexpected argument '1'; usage: hrm-bench gemm")]
    [InlineData("compare 1 --onyl=gemm", "compare: unknown option '--onyl=gemm'; usage: hrm-bench compare [THREADS]")]
    [InlineData("compare --only=gemm,gem", "unknown kind 'gem' in --only (kinds: segment, solve, training, gemm)")]
    [InlineData("compare --only=", "compare: --only= names no kind")]
    [InlineData("compare --render", "compare: --render expects a FILE")]
    public void A_bad_argument_exits_with_2_and_one_line_naming_it(string args, string expected)
    {
        (int rc, string log) = Run(args.Split(' '));
        Assert.Equal(2, rc);
        string[] lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("hrm-bench: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Attention_times_the_shapes_it_is_given()
    {
        (int rc, string log) = Run(["attention", "1", "2,9,1,16", "1,5,2,8"]);
        Assert.True(rc == 0, log);
        string[] rows = [.. log.Split('\n').Where(l => l.StartsWith('|'))];
        Assert.Equal(4, rows.Length); // the header and its rule, then one row per shape, in order
        Assert.StartsWith("| 2, 9, 1, 16 |", rows[2], StringComparison.Ordinal);
        Assert.StartsWith("| 1, 5, 2, 8 |", rows[3], StringComparison.Ordinal);
        Assert.All(rows[2..], r => Assert.EndsWith("| 0 |", r.TrimEnd(), StringComparison.Ordinal)); // no allocation
    }

    /// <summary>Runs the built hrm-bench of this configuration (or skips): its exit code and its output and error
    /// lines together.</summary>
    private static (int Rc, string Log) Run(string[] args)
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root != null && !File.Exists(Path.Combine(root.FullName, "Hrm.sln"))) root = root.Parent;
        Assert.SkipWhen(root is null, "the repository is not above the test binaries");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<configuration>/net10.0
        string tool = Path.Combine(root!.FullName, "src", "Hrm.Bench", "bin", configuration, "net10.0", "hrm-bench");
        Assert.SkipUnless(File.Exists(tool), $"hrm-bench is not built at {tool}");
        return ChildProcess.Run(tool, args, null, TimeoutMs);
    }
}
