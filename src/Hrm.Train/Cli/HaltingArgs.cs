using System.Globalization;
using Hrm.Runtime.Solver;

namespace Hrm.Train.Cli;

/// <summary>The halting flags shared by <c>hrm solve</c> and <c>hrm eval</c>: --halting, --min-steps, --halt-margin.</summary>
internal static class HaltingArgs
{
    /// <summary>The option names.</summary>
    public static readonly string[] Options = ["halting", "min-steps", "halt-margin"];

    /// <summary>The usage fragment.</summary>
    public const string Usage = "[--halting fixed|adaptive] [--min-steps N] [--halt-margin X]";

    /// <summary>--halting, or null when not given.</summary>
    public static HaltingMode? Mode(CliArgs args, string command) => args.Get("halting") switch
    {
        null => null,
        "fixed" => HaltingMode.Fixed,
        "adaptive" => HaltingMode.Adaptive,
        string s => throw new UsageException(command, $"--halting expects fixed or adaptive, got '{s}'"),
    };

    /// <summary>--min-steps (default 1).</summary>
    public static int MinSteps(CliArgs args) => args.GetInt("min-steps", 1, min: 1);

    /// <summary>--halt-margin (default 0; a number, or inf for a margin that is never met).</summary>
    public static float Margin(CliArgs args, string command)
    {
        string? s = args.Get("halt-margin");
        if (s == null) return 0f;
        if (s is "inf" or "+inf") return float.PositiveInfinity;
        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !float.IsNaN(v)
            ? v
            : throw new UsageException(command, $"--halt-margin expects a number (or inf), got '{s}'");
    }

    /// <summary>Checks that the adaptive-only flags come with --halting adaptive (or, for eval, a sweep).</summary>
    public static void CheckAdaptiveFlags(CliArgs args, string command, bool adaptive)
    {
        if (adaptive) return;
        foreach (string name in (string[])["min-steps", "halt-margin"])
        {
            if (args.Has(name)) throw new UsageException(command, $"--{name} applies to --halting adaptive");
        }
    }
}
