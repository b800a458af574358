// SudokuApp: solves Sudoku typed on stdin (one per line) with a trained HRM checkpoint.
//   dotnet run --project samples/SudokuApp -c Release -- runs/quickstart/run/checkpoints/step_N/model.safetensors [--adaptive]
// --exact prints the halting confidence to the last digit (to compare two builds of the app, e.g. NativeAOT and JIT).
using System.Globalization;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;

const string Usage = "usage: SudokuApp CHECKPOINT [--adaptive] [--exact]";
if (args is ["-h" or "--help"])
{
    Console.WriteLine(Usage);
    return 0;
}
string[] flags = args.Length > 0 ? args[1..] : [];
if (args.Length < 1 || flags.Any(f => f is not ("--adaptive" or "--exact")) || flags.Distinct().Count() != flags.Length)
{
    Console.Error.WriteLine(Usage);
    return 2;
}
bool adaptive = flags.Contains("--adaptive"), exact = flags.Contains("--exact");

HrmSolver solver;
try
{
    var options = new SolverOptions { Halting = adaptive ? HaltingMode.Adaptive : HaltingMode.Fixed };
    solver = HrmSolver.Load(args[0], options);
}
catch (Exception e) when (e is HrmFormatException or IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"SudokuApp: cannot load {args[0]}: {e.Message}");
    return 1;
}

using (solver)
{
    if (solver.SudokuSize is not int size)
    {
        Console.Error.WriteLine($"SudokuApp: {args[0]} is not a Sudoku model (seq_len {solver.Config.SeqLen})");
        return 1;
    }
    Console.WriteLine($"{solver.Device}; {size}x{size} Sudoku, {solver.Halting.Mode} halting, at most " +
                      $"{solver.Halting.MaxSteps} segments. One puzzle per line ('.' or '0' for blanks); end with Ctrl-D.");
    for (string? line = Console.ReadLine(); line != null; line = Console.ReadLine())
    {
        if (string.IsNullOrWhiteSpace(line)) continue;
        SudokuGrid puzzle;
        try
        {
            puzzle = SudokuGrid.Parse(line, size);
        }
        catch (PuzzleFormatException e)
        {
            Console.WriteLine($"not a puzzle: {e.Message}");
            continue;
        }
        SudokuResult r = solver.Solve(puzzle);
        Console.WriteLine(r.Answer);
        Console.WriteLine(r.IsValid ? "valid" : $"NOT valid: {r.Problem}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Segments} segments, confidence {(exact ? r.HaltConfidence.ToString("R", CultureInfo.InvariantCulture) :
                r.HaltConfidence.ToString("F3", CultureInfo.InvariantCulture))}, {r.Elapsed.TotalMilliseconds:F1} ms"));
        Console.WriteLine();
    }
}
return 0;
