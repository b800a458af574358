using System.Globalization;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;

namespace Hrm.Train.Cli;

/// <summary>Entry point of the <c>hrm</c> command line: dispatches to one command per file, maps errors to exit codes.</summary>
internal static class CommandLine
{
    private static readonly (string Name, string Usage, string Summary)[] Commands =
    [
        ("info", InfoCommand.Usage, "architecture, parameter table and memory plan; with --checkpoint, what a checkpoint holds"),
        ("init", InitCommand.Usage, "write a freshly initialised checkpoint"),
        ("convert", ConvertCommand.Usage, "one safetensors file with its architecture (e.g. from the reference's step_N)"),
        ("predict", PredictCommand.Usage, "evaluation-mode ACT on token rows; writes logits, Q logits, predictions"),
        ("train", TrainCommand.Usage, "train (or resume) a run; checkpoints and metrics.jsonl in the run directory"),
        ("eval", EvalCommand.Usage, "the reference's evaluation on a dataset split"),
        ("solve", SolveCommand.Usage,
            "solve a Sudoku, a maze or a text input (or a file of them) with a trained checkpoint"),
        ("data", DataCommand.Usage, "build a dataset: Sudoku or maze (generated, or the reference CSVs), ARC " +
            "(task folders), a task of your own (text pairs)"),
        ("quickstart", QuickstartCommand.Usage, "generate data, train a small model (the CPU, or a GPU when present), evaluate, solve three"),
        ("render", RenderCommand.Usage, "PNG pictures: a solve segment by segment, an ARC example, training curves, halting"),
        ("analyze", AnalyzeCommand.Usage, "participation ratio of z_H and z_L, trained vs freshly initialised (table and PNG)"),
    ];

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command line; every failure becomes a message on <paramref name="stderr"/> and an exit code
    /// (2: usage, 1: anything else), never an unhandled exception.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return Dispatch(args, stdout, stderr);
        }
        catch (UsageException e)
        {
            Say(stderr, w =>
            {
                w.WriteLine($"hrm: {e.Message}");
                string? usage = Commands.FirstOrDefault(c => c.Name == e.Command).Usage;
                if (usage != null) w.WriteLine("usage: " + usage);
                else PrintHelp(w);
            });
            return 2;
        }
        catch (Exception e)
        {
            Say(stderr, w => w.WriteLine(Report(e)));
            return 1;
        }
    }

    /// <summary>Writes an error; standard error that cannot be written (a full disk) leaves the exit code to say it.
    /// </summary>
    private static void Say(TextWriter stderr, Action<TextWriter> write)
    {
        try
        {
            write(stderr);
        }
        catch (IOException)
        {
        }
    }

    private static int Dispatch(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            PrintHelp(args.Length == 0 ? stderr : stdout);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version" or "version")
        {
            PrintVersion(stdout);
            return 0;
        }
        ReadOnlySpan<string> rest = args.AsSpan(1);
        (string Name, string Usage, string Summary) command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command.Name != null && (rest.Contains("--help") || rest.Contains("-h")))
        {
            stdout.WriteLine($"usage: {command.Usage}\n  {command.Summary}");
            return 0;
        }
        return args[0] switch
        {
            "info" => InfoCommand.Run(rest, stdout, stderr),
            "init" => InitCommand.Run(rest, stdout, stderr),
            "convert" => ConvertCommand.Run(rest, stdout, stderr),
            "predict" => PredictCommand.Run(rest, stdout, stderr),
            "train" => TrainCommand.Run(rest, stdout, stderr),
            "eval" => EvalCommand.Run(rest, stdout, stderr),
            "solve" => SolveCommand.Run(rest, stdout, stderr),
            "data" => DataCommand.Run(rest, stdout, stderr),
            "quickstart" => QuickstartCommand.Run(rest, stdout, stderr),
            "render" => RenderCommand.Run(rest, stdout, stderr),
            "analyze" => AnalyzeCommand.Run(rest, stdout, stderr),
            _ => throw new UsageException("", $"unknown command '{args[0]}'"),
        };
    }

    /// <summary>
    /// The line an error is reported with. Errors of the input, the files and the machine (the types below) are
    /// said plainly; anything else is a bug of ours, said as one, with its type (HRM_DEBUG=1: and where it happened),
    /// rather than as the runtime's stack trace. One exception wrapped by parallel work counts as itself.
    /// </summary>
    internal static string Report(Exception e)
    {
        // Parallel work wraps what its tasks threw (several, or nested): the first of them stands for all.
        if (e is AggregateException all && all.Flatten().InnerExceptions is [var first, ..]) e = first;
        if (e is InsufficientMemoryException) // our allocations name what they were for
        {
            return $"hrm: error: not enough memory: {e.Message} (check the sizes the config and the data give: " +
                "hrm info --config FILE prints the memory plan)";
        }
        if (e is OutOfMemoryException) return $"hrm: error: not enough memory ({e.Message})";
        if (e is HrmConfigException or HrmFormatException or ArgumentException or FormatException
            or Hrm.Train.Training.TrainingDivergedException or IOException or UnauthorizedAccessException
            or InvalidOperationException or CudaUnavailableException or CudaException or CudaLibraryNotFoundException)
        {
            return $"hrm: error: {Describe(e)}";
        }
        string where = Environment.GetEnvironmentVariable("HRM_DEBUG") == "1" ? Environment.NewLine + e
            : " (HRM_DEBUG=1 prints where)";
        return $"hrm: internal error, please report it: {e.GetType().Name}: {e.Message}{where}";
    }

    /// <summary>
    /// The error's message, without an argument exception's parameter name, and where .NET says "Access to the path
    /// 'X' is denied." of a directory X, that X is a directory: that is what opening a directory as a file gives (an
    /// input or output path that names a folder), not a permission problem.
    /// </summary>
    internal static string Describe(Exception e)
    {
        // A library argument's name (" (Parameter 'o')") means nothing on the command line; the text says what was
        // wrong.
        if (e is ArgumentException { ParamName: { } name } ae)
        {
            string suffix = $" (Parameter '{name}')", message = ae.Message;
            if (message.Contains(suffix, StringComparison.Ordinal))
                message = message.Replace(suffix, "", StringComparison.Ordinal);
            // An out-of-range value's own line ("\nActual value was 5000.") joins the message: "..., got 5000".
            if (ae is ArgumentOutOfRangeException { ActualValue: { } v } &&
                message.IndexOf(Environment.NewLine + "Actual value was ", StringComparison.Ordinal) is var at and >= 0)
                message = string.Create(CultureInfo.InvariantCulture, $"{message[..at].TrimEnd('.')}, got {v}");
            return message;
        }
        if (e is UnauthorizedAccessException)
        {
            string m = e.Message;
            int a = m.IndexOf('\'', StringComparison.Ordinal), b = a < 0 ? -1 : m.IndexOf('\'', a + 1);
            if (b > a + 1 && m[(a + 1)..b] is var path && Directory.Exists(path) && Listable(path))
                return $"{path}: is a directory; expected a file";
        }
        return e.Message;
    }

    /// <summary>Whether a directory's entries can be read: if not, the denial may be real (an unreadable folder).
    /// </summary>
    private static bool Listable(string dir)
    {
        try
        {
            _ = Directory.EnumerateFileSystemEntries(dir).Any();
            return true;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary><c>hrm --version</c>: the library's version (with the commit it was built from, where the build knew
    /// it), the .NET runtime, the platform and the CPU backend's SIMD path.</summary>
    private static void PrintVersion(TextWriter w)
    {
        System.Reflection.Assembly runtime = typeof(Hrm.Runtime.Model.HrmModel).Assembly;
        string version = runtime.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            is [System.Reflection.AssemblyInformationalVersionAttribute a, ..] ? a.InformationalVersion
            : runtime.GetName().Version?.ToString() ?? "unknown";
        w.WriteLine($"hrm {version}");
        w.WriteLine($"{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, " +
            $"{System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}");
        using var cpu = new Hrm.Runtime.Backends.Cpu.CpuBackend(0);
        w.WriteLine($"cpu: {cpu.Description}");
    }

    private static void PrintHelp(TextWriter w)
    {
        w.WriteLine("hrm: the Hierarchical Reasoning Model runtime");
        w.WriteLine("commands (hrm COMMAND --help: one command's usage; hrm --version):");
        foreach ((string _, string usage, string summary) in Commands) w.WriteLine($"  {usage}\n      {summary}");
    }
}
