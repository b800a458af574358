using System.Globalization;
using System.Text.RegularExpressions;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// Reads an NVRTC program log. With <c>--ptxas-options=-v</c>, NVRTC 11.8 logs per kernel (verified):
/// <code>
/// ptxas info    : Compiling entry function 'add_kernel' for 'sm_80'
/// ptxas info    : Function properties for add_kernel
/// ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
/// ptxas info    : Used 10 registers, 1024 bytes smem, 372 bytes cmem[0]
/// </code>
/// Newer ptxas adds fields (<c>used 1 barriers</c>) and lines (<c>Compile time = ...</c>); the parser matches
/// each field on its own so those are tolerated. Compiler warnings look like
/// <c>x.cu(2): warning #177-D: variable "x" was declared but never referenced</c> or <c>ptxas warning : ...</c>.
/// </summary>
internal static partial class PtxasLog
{
    /// <summary>Every function ptxas reported, in log order (entries and non-inlined device functions).</summary>
    public static IReadOnlyList<KernelResourceUsage> Parse(string log)
    {
        var order = new List<string>();
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        Row? entry = null;
        Row? subject = null;
        foreach (string line in Lines(log))
        {
            Match m;
            if ((m = CompilingEntry().Match(line)).Success)
            {
                entry = Get(rows, order, m.Groups["name"].Value);
                entry.IsEntry = true;
                entry.Arch = m.Groups["arch"].Value;
                subject = entry;
            }
            else if ((m = FunctionProperties().Match(line)).Success)
            {
                subject = Get(rows, order, m.Groups["name"].Value);
                if (subject.Arch.Length == 0) subject.Arch = entry?.Arch ?? "";
            }
            else if ((m = StackAndSpills().Match(line)).Success && subject is not null)
            {
                subject.Stack = Int(m, "stack");
                subject.SpillStores = Int(m, "stores");
                subject.SpillLoads = Int(m, "loads");
            }
            else if ((m = UsedRegisters().Match(line)).Success && (entry ?? subject) is Row target)
            {
                target.Registers = Int(m, "regs");
                Match smem = SharedMemory().Match(line);
                if (smem.Success) target.Shared = Int(smem, "smem");
            }
        }
        return [.. order.Select(n => rows[n].ToUsage(n))];
    }

    /// <summary>The log lines that are compiler or ptxas warnings.</summary>
    public static IReadOnlyList<string> Warnings(string log) => [.. Lines(log).Where(l => Warning().IsMatch(l))];

    private static IEnumerable<string> Lines(string log) =>
        log.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0);

    private static Row Get(Dictionary<string, Row> rows, List<string> order, string name)
    {
        if (rows.TryGetValue(name, out Row? row)) return row;
        row = new Row();
        rows.Add(name, row);
        order.Add(name);
        return row;
    }

    private static int Int(Match m, string group) =>
        int.Parse(m.Groups[group].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Compiling entry function '(?<name>[^']+)' for '(?<arch>[^']+)'")]
    private static partial Regex CompilingEntry();

    [GeneratedRegex(@"Function properties for (?<name>\S+)")]
    private static partial Regex FunctionProperties();

    [GeneratedRegex(
        @"(?<stack>\d+) bytes stack frame, (?<stores>\d+) bytes spill stores, (?<loads>\d+) bytes spill loads")]
    private static partial Regex StackAndSpills();

    [GeneratedRegex(@"Used (?<regs>\d+) registers")]
    private static partial Regex UsedRegisters();

    [GeneratedRegex(@"(?<smem>\d+) bytes smem")]
    private static partial Regex SharedMemory();

    [GeneratedRegex(@"(^|[\s:])warning(\s*#\d+(-D)?)?\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex Warning();

    private sealed class Row
    {
        public bool IsEntry;
        public string Arch = "";
        public int Registers;
        public int Shared;
        public int Stack;
        public int SpillStores;
        public int SpillLoads;

        public KernelResourceUsage ToUsage(string name) =>
            new(name, Arch, IsEntry, Registers, Shared, Stack, SpillStores, SpillLoads);
    }
}
