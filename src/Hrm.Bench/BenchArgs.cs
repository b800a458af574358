using System.Globalization;

namespace Hrm.Bench;

/// <summary>The positional arguments of the timing commands (<c>hrm-bench profile PRESET BATCH SEGMENTS
/// THREADS</c>, ...): a value that does not parse or is out of range, or one too many, is an error naming it.
/// </summary>
internal static class BenchArgs
{
    /// <summary>Argument <paramref name="i"/> (0 = the command) as an integer of at least <paramref name="min"/>,
    /// or <paramref name="fallback"/> where it is not given.</summary>
    /// <exception cref="FormatException">Not an integer, or below <paramref name="min"/>.</exception>
    public static int Int(string[] args, int i, int fallback, string name, int min)
    {
        if (args.Length <= i) return fallback;
        if (int.TryParse(args[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min) return v;
        throw new FormatException($"{args[0]}: {name} expects an integer of at least {min}, got '{args[i]}'");
    }

    /// <summary>Refuses arguments after the first <paramref name="count"/> (the command included).</summary>
    /// <exception cref="FormatException">One too many, with the usage.</exception>
    public static void AtMost(string[] args, int count, string usage)
    {
        if (args.Length > count)
            throw new FormatException($"{args[0]}: unexpected argument '{args[count]}'; usage: hrm-bench {usage}");
    }
}
