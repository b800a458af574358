namespace Hrm.Train.Cli;

/// <summary>Entry point of the <c>hrm</c> command line: dispatches to one command per file.</summary>
internal static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("usage: hrm <command> [options]");
        return args.Length == 0 ? 2 : 2;
    }
}
