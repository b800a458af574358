using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Puzzles;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm solve --puzzles FILE</c> / <c>--mazes FILE</c> / <c>--texts FILE</c>: many puzzles through one solver,
/// in batches (continuous
/// batching, <c>--batch</c> rows at once). The file is one puzzle a line (a Sudoku's n*n cells with '.' or '0' for a
/// blank, blank lines and lines opening with '#' skipped; a maze's n*n cells of <c># SG</c>, '.' also open, blank lines
/// skipped), or the reference's CSV (header <c>source,question,answer,rating</c>), whose answers are then compared with
/// the model's; texts as <see cref="ReadTexts"/> says. Answers go one a line, in order, to <c>--out FILE</c> or
/// standard output; the counts and the speed go
/// to the other stream.
/// </summary>
internal static class SolveMany
{
    /// <summary>Puzzles handed to the solver at a time (and answers written at a time).</summary>
    private const int Chunk = 4096;

    /// <summary>One answer as the output file has it, whether it counts as solved, and the segments it took.</summary>
    private readonly record struct Answer(string Text, bool Solved, int Segments);

    /// <summary>The Sudokus of <paramref name="path"/> and, for the reference's CSV, their answers as the output
    /// writes them (else null).</summary>
    public static (List<SudokuGrid> Puzzles, List<string>? Answers) ReadSudokus(string path)
    {
        if (IsCsv(path))
        {
            var puzzles = new List<SudokuGrid>();
            var answers = new List<string>();
            foreach (SudokuRecord r in SudokuCsv.Enumerate(path))
            {
                puzzles.Add(SudokuGrid.FromDigits(r.Puzzle));
                answers.Add(Digits(r.Solution));
            }
            if (puzzles.Count == 0) throw new PuzzleFormatException($"{path}: no puzzles (a header and no rows)");
            return (puzzles, answers);
        }
        return (Lines(path, comments: true, text =>
        {
            SudokuGrid grid = SudokuGrid.Parse(text.Trim());
            return (grid, grid.Size);
        }), null);
    }

    /// <summary>The mazes of <paramref name="path"/> (one a line, n*n cells) and, for the reference's CSV, their
    /// solutions as the output writes them (else null).</summary>
    public static (List<Maze> Puzzles, List<string>? Answers) ReadMazes(string path)
    {
        if (IsCsv(path))
        {
            List<MazeRecord> records = MazeCsv.Read(path);
            if (records.Count == 0) throw new PuzzleFormatException($"{path}: no mazes (a header and no rows)");
            return ([.. records.Select(r => Maze.Parse(MazeBoard.Format(r.Puzzle)))],
                [.. records.Select(r => Line(r.Solution))]);
        }
        // '#' is a wall, so a maze file has no comment lines; a line's spaces are open cells, kept.
        return (Lines(path, comments: false, text =>
        {
            if (MazeBoard.SideOf(text.Length) < 2)
                throw new PuzzleFormatException($"{text.Length} characters; a maze on one line is n*n cells (900 for 30 x 30)");
            Maze maze = Maze.Parse(text);
            return (maze, maze.Side);
        }), null);
    }

    /// <summary>The inputs of <paramref name="path"/> (<see cref="TextPairsCsv"/>: one input a line, or input,output
    /// lines) and, where the file has outputs, those (else null). Each gets <paramref name="puzzleIdentifier"/>, or
    /// with <paramref name="names"/> (a checkpoint's identifiers.json) the identifier its group column names.</summary>
    public static (List<TextPuzzle> Puzzles, List<string>? Answers) ReadTexts(string path, TextAlphabet alphabet,
        string[]? names, int puzzleIdentifier)
    {
        List<TextPair> pairs = TextPairsCsv.Read(path, inputsOnly: true);
        if (pairs.Count == 0) throw new PuzzleFormatException($"{path}: no inputs (one a line)");
        foreach (TextPair p in pairs)
        {
            if (alphabet.FindTextError(p.Input) is { } problem)
                throw TextPairsCsv.Error(path, p.Line, "input", problem);
        }
        Dictionary<string, int>? ids = null;   // name -> identifier, looked up once a row (ARC-sized files hold ~1M)
        if (names != null)
        {
            ids = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
            for (int i = 1; i < names.Length; i++) ids.TryAdd(names[i], i);  // the first of a repeated name, as IndexOf
        }
        return ([.. pairs.Select(p => TextPuzzle.Parse(p.Input, alphabet,
                ids is null ? puzzleIdentifier : NamedIdentifier(path, p, ids)))],
            pairs[0].Output.Length > 0 ? [.. pairs.Select(p => p.Output)] : null);
    }

    private static int NamedIdentifier(string path, TextPair p, Dictionary<string, int> ids)
    {
        if (ids.TryGetValue(p.Group, out int id)) return id;
        throw TextPairsCsv.Error(path, p.Line, "group", p.Group.Length == 0
            ? "is missing: the model names its puzzles (identifiers.json); give input,output,group lines or " +
              "--puzzle-name NAME"
            : $"'{p.Group}' is not among the model's {ids.Count} puzzles (identifiers.json)");
    }

    /// <summary>Solves every text input, writes the answers (the model's text; with <paramref name="voting"/>, the
    /// vote of each group's first MaxViews views), says the counts; exit code 0 when every answer is well formed,
    /// else 3 (as for one input).</summary>
    public static int RunTexts(HrmSolver solver, string path, (List<TextPuzzle> Puzzles, List<string>? Answers) file,
        (TextViews? Views, int MaxViews) voting, string? outPath, int batch, string notice, TextWriter o,
        TextWriter err) => voting.Views is { } views
        ? Run(path, file.Puzzles, file.Answers, part => [.. solver.Solve(part, views, voting.MaxViews).Select(v =>
            new Answer(v.Answer, v.IsValid, v.Segments))],
            "texts", "well formed (symbols up to the end marker)", outPath, batch,
            notice + $"; each answer the vote of up to {Math.Min(views.ViewCount, voting.MaxViews)} views", o, err)
        : Run(path, file.Puzzles, file.Answers, part => [.. solver.Solve(part).Select(r =>
            new Answer(r.Answer, r.IsValid, r.Segments))],
            "texts", "well formed (symbols up to the end marker)", outPath, batch, notice, o, err);

    /// <summary>Solves every Sudoku, writes the answers (n*n digits, '.' where the model gave none), says the counts;
    /// exit code 0 when every answer is valid, else 3 (as for one puzzle).</summary>
    public static int RunSudokus(HrmSolver solver, string path, (List<SudokuGrid> Puzzles, List<string>? Answers) file,
        string? outPath, int batch, string notice, TextWriter o, TextWriter err)
    {
        int n = solver.SudokuSize ?? throw new ArgumentException(
            $"the checkpoint is not a Sudoku model (seq_len {solver.Config.SeqLen}, vocab_size {solver.Config.VocabSize})");
        if (file.Puzzles[0].Size != n)
            throw new PuzzleFormatException($"{path}: {file.Puzzles[0].Size}x{file.Puzzles[0].Size} puzzles for a {n}x{n} model");
        return Run(path, file.Puzzles, file.Answers, part => [.. solver.Solve(part).Select(r =>
            new Answer(Digits(r.Answer.ToDigits()), r.IsValid, r.Segments))],
            "puzzles", "valid (complete, every unit once, every given kept)", outPath, batch, notice, o, err);
    }

    /// <summary>Solves every maze, writes the answers (the maze with the model's 'o' cells, on one line), says the
    /// counts; exit code 0 when every answer is a shortest path, else 3 (as for one maze).</summary>
    public static int RunMazes(HrmSolver solver, string path, (List<Maze> Puzzles, List<string>? Answers) file,
        string? outPath, int batch, string notice, TextWriter o, TextWriter err)
    {
        int side = file.Puzzles[0].Side;
        if (side * side != solver.Config.SeqLen || solver.Config.VocabSize != MazeBoard.VocabSize)
        {
            throw new PuzzleFormatException($"{path}: {side} x {side} mazes for a model of seq_len {solver.Config.SeqLen} " +
                $"and vocab_size {solver.Config.VocabSize} (a maze model has n*n and {MazeBoard.VocabSize})");
        }
        return Run(path, file.Puzzles, file.Answers, part => [.. solver.Solve(part).Select(r =>
            new Answer(Line(r.Answer.Cells), r.IsShortest, r.Segments))],
            "mazes", "shortest paths (connected, start to goal, open cells only, and shortest)", outPath, batch, notice, o, err);
    }

    private static int Run<T>(string path, List<T> puzzles, List<string>? expected, Func<List<T>, List<Answer>> solve,
        string what, string solvedWhat, string? outPath, int batch, string notice, TextWriter o, TextWriter err)
    {
        TextWriter summary = outPath != null ? o : err;
        if (outPath != null) Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        AtomicFileWriter? file = outPath != null ? new AtomicFileWriter(outPath) : null;
        StreamWriter? fileText = file != null
            ? new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" }
            : null;
        TextWriter answersOut = fileText ?? o;
        try
        {
            summary.WriteLine($"{notice}; {puzzles.Count:N0} {what} from {path}, batch {batch}");
            int solved = 0, equal = 0;
            long segments = 0;
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < puzzles.Count; start += Chunk)
            {
                List<Answer> answers = solve(puzzles.GetRange(start, Math.Min(Chunk, puzzles.Count - start)));
                for (int i = 0; i < answers.Count; i++)
                {
                    answersOut.WriteLine(answers[i].Text);
                    if (answers[i].Solved) solved++;
                    if (expected != null && expected[start + i] == answers[i].Text) equal++;
                    segments += answers[i].Segments;
                }
                int done = start + answers.Count;
                if (done < puzzles.Count)
                {
                    err.WriteLine(Inv($"solved {done:N0} of {puzzles.Count:N0}: {solved:N0} {solvedWhat.Split(' ')[0]}; ") +
                        Inv($"{done / clock.Elapsed.TotalSeconds:F1} {what}/s"));
                }
            }
            answersOut.Flush();
            if (file != null)
            {
                fileText!.Dispose(); // flushed; the stream stays open for the commit
                fileText = null; // a StreamWriter left open flushes again on a second Dispose
                file.Commit();
            }
            double secs = clock.Elapsed.TotalSeconds;
            int count = puzzles.Count;
            summary.WriteLine(Inv($"{solvedWhat}: {solved:N0} of {count:N0} ({100.0 * solved / count:F2}%)"));
            if (expected != null)
                summary.WriteLine(Inv($"equal to the file's answers: {equal:N0} of {count:N0} ({100.0 * equal / count:F2}%)"));
            summary.WriteLine(Inv($"segments per {what[..^1]}: {(double)segments / count:F2}; {secs:F1} s, {count / secs:F1} {what}/s") +
                (outPath != null ? $"; answers in {outPath}" : ""));
            return solved == count ? 0 : 3;
        }
        finally
        {
            fileText?.Dispose();
            file?.Dispose();
        }
    }

    /// <summary>Whether the file's first line is the reference's CSV header (its builders take line 1 as the header).</summary>
    private static bool IsCsv(string path)
    {
        if (Directory.Exists(path)) throw new PuzzleFormatException($"{path}: a folder; --puzzles and --mazes take a file");
        string? first = TextLines.Read(path, "puzzle file").FirstOrDefault();
        return first != null && IsHeader(first);
    }

    private static bool IsHeader(string line) =>
        line.TrimStart('\uFEFF').StartsWith("source,question,answer", StringComparison.Ordinal);

    /// <summary>One puzzle a line, all of one size; lines that are empty (and, with <paramref name="comments"/>,
    /// blank or opening with '#') skipped; errors name the file and the line.</summary>
    private static List<T> Lines<T>(string path, bool comments, Func<string, (T Puzzle, int Size)> parse)
    {
        var list = new List<T>();
        int number = 0, size = 0;
        foreach (string raw in TextLines.Read(path, "puzzle file"))
        {
            number++;
            string text = raw.TrimStart('\uFEFF');
            // A line of spaces is blank for mazes too: a maze has an S and a G.
            if (text.Trim().Length == 0 || comments && text.TrimStart().StartsWith('#')) continue;
            try
            {
                if (IsHeader(text))
                    throw new PuzzleFormatException("a CSV header below line 1 (the reference's CSV has it on line 1)");
                (T puzzle, int n) = parse(text);
                if (list.Count > 0 && n != size)
                    throw new PuzzleFormatException($"a {n}x{n} grid among {size}x{size} ones");
                size = n;
                list.Add(puzzle);
            }
            catch (PuzzleFormatException e)
            {
                throw new PuzzleFormatException($"{path}: line {number}: {e.Message}", e);
            }
        }
        if (list.Count == 0) throw new PuzzleFormatException($"{path}: no puzzles (one a line, n*n cells)");
        return list;
    }

    private static string Digits(ReadOnlySpan<byte> d)
    {
        var chars = new char[d.Length];
        for (int i = 0; i < d.Length; i++) chars[i] = d[i] == 0 ? '.' : (char)('0' + d[i]);
        return new string(chars);
    }

    private static string Line(ReadOnlySpan<byte> cells) => MazeBoard.Format(cells).Replace("\n", "", StringComparison.Ordinal);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
