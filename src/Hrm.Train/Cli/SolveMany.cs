using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;
using Hrm.Train.Data;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>hrm solve --puzzles FILE</c>: many Sudokus through one solver, in batches (continuous batching, <c>--batch</c>
/// rows at once). The file is one puzzle a line (n*n cells, '.' or '0' for a blank; blank lines and lines opening
/// with '#' skipped), or the reference's CSV (header <c>source,question,answer,rating</c>), whose answers are then
/// compared with the model's. Answers go one a line, in order (n*n digits, '.' where the model gave none), to
/// <c>--out FILE</c> or standard output; the counts and the speed go to the other stream.
/// </summary>
internal static class SolveMany
{
    /// <summary>Puzzles handed to the solver at a time (and answers written at a time).</summary>
    private const int Chunk = 4096;

    /// <summary>The puzzles of <paramref name="path"/> and, for the reference's CSV, their answers (else null).</summary>
    public static (List<SudokuGrid> Puzzles, List<SudokuGrid>? Answers) Read(string path)
    {
        if (Directory.Exists(path)) throw new PuzzleFormatException($"{path}: a folder; --puzzles takes a file");
        string? first = File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0);
        if (first != null && first.Trim().TrimStart('\uFEFF').StartsWith("source,question,answer", StringComparison.Ordinal))
        {
            var puzzles = new List<SudokuGrid>();
            var answers = new List<SudokuGrid>();
            foreach (SudokuRecord r in SudokuCsv.Enumerate(path))
            {
                puzzles.Add(SudokuGrid.FromDigits(r.Puzzle));
                answers.Add(SudokuGrid.FromDigits(r.Solution));
            }
            if (puzzles.Count == 0) throw new PuzzleFormatException($"{path}: no puzzles (a header and no rows)");
            return (puzzles, answers);
        }
        var list = new List<SudokuGrid>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            string text = line.Trim().TrimStart('\uFEFF');
            if (text.Length == 0 || text.StartsWith('#')) continue;
            try
            {
                SudokuGrid grid = SudokuGrid.Parse(text);
                if (list.Count > 0 && grid.Size != list[0].Size)
                    throw new PuzzleFormatException($"a {grid.Size}x{grid.Size} grid among {list[0].Size}x{list[0].Size} ones");
                list.Add(grid);
            }
            catch (PuzzleFormatException e)
            {
                throw new PuzzleFormatException($"{path}: line {number}: {e.Message}", e);
            }
        }
        if (list.Count == 0) throw new PuzzleFormatException($"{path}: no puzzles (one a line, n*n cells)");
        return (list, null);
    }

    /// <summary>Solves every puzzle, writes the answers, says the counts; exit code 0 when every answer is valid,
    /// else 3 (as for one puzzle).</summary>
    public static int Run(HrmSolver solver, string path, List<SudokuGrid> puzzles, List<SudokuGrid>? answers,
        string? outPath, int batch, string notice, TextWriter o, TextWriter err)
    {
        int n = solver.SudokuSize ?? throw new ArgumentException(
            $"the checkpoint is not a Sudoku model (seq_len {solver.Config.SeqLen}, vocab_size {solver.Config.VocabSize})");
        if (puzzles[0].Size != n)
            throw new PuzzleFormatException($"{path}: {puzzles[0].Size}x{puzzles[0].Size} puzzles for a {n}x{n} model");
        TextWriter summary = outPath != null ? o : err;
        AtomicFileWriter? file = outPath != null ? new AtomicFileWriter(outPath) : null;
        StreamWriter? fileText = file != null
            ? new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" }
            : null;
        TextWriter answersOut = fileText ?? o;
        try
        {
            summary.WriteLine($"{notice}; {puzzles.Count:N0} puzzles from {path}, batch {batch}");
            int valid = 0, equal = 0;
            long segments = 0;
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < puzzles.Count; start += Chunk)
            {
                List<SudokuGrid> part = puzzles.GetRange(start, Math.Min(Chunk, puzzles.Count - start));
                IReadOnlyList<SudokuResult> results = solver.Solve(part);
                for (int i = 0; i < results.Count; i++)
                {
                    SudokuResult r = results[i];
                    answersOut.WriteLine(Digits(r.Answer));
                    if (r.IsValid) valid++;
                    if (answers != null && answers[start + i].ToDigits().AsSpan().SequenceEqual(r.Answer.ToDigits())) equal++;
                    segments += r.Segments;
                }
                int done = start + part.Count;
                if (done < puzzles.Count)
                    err.WriteLine(Inv($"solved {done:N0} of {puzzles.Count:N0}: {valid:N0} valid; {done / clock.Elapsed.TotalSeconds:F1} puzzles/s"));
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
            summary.WriteLine(Inv($"valid (complete, every unit once, every given kept): {valid:N0} of {count:N0} ({100.0 * valid / count:F2}%)"));
            if (answers != null)
                summary.WriteLine(Inv($"equal to the file's answers: {equal:N0} of {count:N0} ({100.0 * equal / count:F2}%)"));
            summary.WriteLine(Inv($"segments per puzzle: {(double)segments / count:F2}; {secs:F1} s, {count / secs:F1} puzzles/s") +
                (outPath != null ? $"; answers in {outPath}" : ""));
            return valid == count ? 0 : 3;
        }
        finally
        {
            fileText?.Dispose();
            file?.Dispose();
        }
    }

    private static string Digits(SudokuGrid g)
    {
        byte[] d = g.ToDigits();
        var chars = new char[d.Length];
        for (int i = 0; i < d.Length; i++) chars[i] = d[i] == 0 ? '.' : (char)('0' + d[i]);
        return new string(chars);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
