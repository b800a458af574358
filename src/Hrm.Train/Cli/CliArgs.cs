using System.Globalization;
using Hrm.Runtime.Config;
using Hrm.Runtime.Threading;

namespace Hrm.Train.Cli;

/// <summary>A command's options: <c>--name value</c> pairs and bare <c>--flag</c>s, checked against what it accepts.</summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _repeated = new(StringComparer.Ordinal);
    private readonly string _command;

    // repeatable: options that may be given several times (e.g. --set); read them with GetAll.
    public CliArgs(string command, ReadOnlySpan<string> args, IReadOnlyCollection<string> options,
        IReadOnlyCollection<string>? flags = null, IReadOnlyCollection<string>? repeatable = null)
    {
        _command = command;
        flags ??= [];
        repeatable ??= [];
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException(command, $"unexpected argument '{a}'");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flags.Contains(name))
            {
                if (value != null) throw new UsageException(command, $"--{name} takes no value");
            }
            else if (options.Contains(name) || repeatable.Contains(name))
            {
                if (value == null)
                {
                    if (i + 1 >= args.Length) throw new UsageException(command, $"--{name} needs a value");
                    value = args[++i];
                }
                if (value.Length == 0)
                    throw new UsageException(command, $"--{name} needs a value, got an empty string");
            }
            else
            {
                var known = options.Concat(repeatable).Concat(flags).Select(o => "--" + o);
                throw new UsageException(command, $"unknown option --{name}; '{command}' accepts {string.Join(", ", known)}");
            }
            if (repeatable.Contains(name))
            {
                if (!_repeated.TryGetValue(name, out List<string>? all)) _repeated[name] = all = [];
                all.Add(value!);
            }
            else if (!_values.TryAdd(name, value))
            {
                throw new UsageException(command, $"--{name} given twice");
            }
        }
    }

    /// <summary>The command the options belong to (for usage errors).</summary>
    public string Command => _command;

    public bool Has(string name) => _values.ContainsKey(name) || _repeated.ContainsKey(name);

    /// <summary>Every value of a repeatable option, in order.</summary>
    public IReadOnlyList<string> GetAll(string name) => _repeated.TryGetValue(name, out List<string>? v) ? v : [];

    public string? Get(string name) => _values.TryGetValue(name, out string? v) ? v : null;

    public string Require(string name) =>
        Get(name) ?? throw new UsageException(_command, $"--{name} is required");

    /// <summary>--name as an output directory (created where missing), or null: checked before any work, so that a
    /// file there (or where one of its folders would be) fails at once rather than after the computation.</summary>
    public string? GetOutDir(string name)
    {
        string? v = Get(name);
        if (v == null) return null;
        if (File.Exists(v))
            throw new UsageException(_command, $"--{name} {v}: is a file; expected a directory (created if missing)");
        CheckFolders(name, v);
        return v;
    }

    /// <summary>--name as an output file (its folders created where missing), or null: not a directory, and no file
    /// where one of its folders would be, checked before any work.</summary>
    public string? GetOutFile(string name)
    {
        string? v = Get(name);
        if (v == null) return null;
        if (Directory.Exists(v))
            throw new UsageException(_command, $"--{name} {v}: is a directory; expected a file");
        CheckFolders(name, v);
        return v;
    }

    /// <summary>An output file option that names the same file as one of the command's input options (a link to it
    /// too) is an error: the output would replace the input.</summary>
    public void CheckNotInput(string output, params string[] inputs)
    {
        // Devices (/dev/stdin and /dev/stdout can be the same terminal) are never the same file.
        static bool Device(string p) => p.StartsWith("/dev/", StringComparison.Ordinal) ||
                                        p.StartsWith("/proc/", StringComparison.Ordinal);
        if (Get(output) is not { } o || Device(Path.GetFullPath(o))) return;
        string target = Resolved(o);
        StringComparison names = OperatingSystem.IsLinux()
            ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase; // macOS and Windows ignore case
        foreach (string input in inputs)
        {
            if (Get(input) is { } i && !Device(Path.GetFullPath(i)) && string.Equals(Resolved(i), target, names))
            {
                throw new UsageException(_command,
                    $"--{output} {o} is the --{input} file; writing it would replace it");
            }
        }
    }

    /// <summary>A path made absolute, through a symbolic link where it is one.</summary>
    private static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        return File.Exists(full) && new FileInfo(full).LinkTarget != null && File.ResolveLinkTarget(full, true) is { } t
            ? t.FullName : full;
    }

    /// <summary>The folders above an output path: the nearest that exists must be a directory.</summary>
    private void CheckFolders(string name, string path)
    {
        for (string? dir = Path.GetDirectoryName(Path.GetFullPath(path)); dir != null && !Directory.Exists(dir);
             dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir))
                throw new UsageException(_command, $"--{name} {path}: {dir} is a file, not a directory");
        }
    }

    public int GetInt(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        string? s = Get(name);
        if (s == null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
        {
            throw new UsageException(_command, max == int.MaxValue
                ? $"--{name} expects an integer >= {min}, got '{s}'"
                : $"--{name} expects an integer from {min} to {max}, got '{s}'");
        }
        return v;
    }

    /// <summary>--max-steps: 1 to <see cref="HrmConfig.MaxDepth"/> segments (what a config's halt_max_steps may be).
    /// </summary>
    public int GetMaxSteps(int fallback) => GetInt("max-steps", fallback, min: 1, max: HrmConfig.MaxDepth);

    /// <summary>--threads: 0 (one per core, the fallback) to <see cref="WorkerPool.MaxThreads"/>.</summary>
    public int GetThreads() => GetInt("threads", 0, min: 0, max: WorkerPool.MaxThreads);

    public ulong GetSeed(string name, ulong fallback)
    {
        string? s = Get(name);
        if (s == null) return fallback;
        return ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v)
            ? v
            : throw new UsageException(_command, $"--{name} expects a non-negative integer, got '{s}'");
    }
}

/// <summary>Bad command-line usage; printed with the command's help.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string command, string message) : base(message) => Command = command;

    public UsageException() => Command = "";

    public UsageException(string message) : base(message) => Command = "";

    public UsageException(string message, Exception inner) : base(message, inner) => Command = "";

    public string Command { get; }
}
