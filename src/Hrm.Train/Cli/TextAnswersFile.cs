using System.Text;
using Hrm.Runtime.Formats;
using Hrm.Runtime.Solver;

namespace Hrm.Train.Cli;

/// <summary>
/// <c>answers.txt</c> beside predictions.npy when the evaluated dataset is text (<c>hrm data pairs</c>: it has an
/// alphabet.json): the model's answer to each example decoded, one a line, in example order ('?' for a token that is
/// not a symbol, as <see cref="TextAlphabet.Decode"/> writes it).
/// </summary>
internal static class TextAnswersFile
{
    public const string FileName = "answers.txt";

    /// <summary>Writes the decoded <paramref name="predictions"/> ((n, l) tokens) to <paramref name="outDir"/> when
    /// <paramref name="dataRoot"/> holds an alphabet.json of rows of <paramref name="l"/>; else removes an answers.txt
    /// an earlier run left there.</summary>
    public static void Write(string outDir, string? dataRoot, int[] predictions, int n, int l, TextWriter o)
    {
        string alphabetPath = dataRoot is null ? "" : Path.Combine(dataRoot, TextAlphabet.FileName);
        TextAlphabet? alphabet = File.Exists(alphabetPath) ? TextAlphabet.Load(alphabetPath) : null;
        if (alphabet is null || alphabet.SeqLen != l)
        {
            PredictCommand.RemoveStale(outDir, FileName, "an evaluation of a text dataset", o);
            return;
        }
        using var file = new AtomicFileWriter(Path.Combine(outDir, FileName));
        using (var w = new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            w.NewLine = "\n";
            for (int i = 0; i < n; i++) w.WriteLine(alphabet.Decode(predictions.AsSpan(i * l, l), out _));
        }
        file.Commit();
        o.WriteLine($"wrote {FileName} ({n} answers decoded with {alphabetPath}) to {outDir}");
    }
}
