using System.Text;
using Hrm.Train.Data;

namespace Hrm.Train.Tests.Cli;

/// <summary>
/// Datasets as the reference's own builders write them (tests/fixtures/reference/sudoku-csv: its
/// dataset/build_sudoku_dataset.py run on the two CSVs there by scripts/reference-fixtures.py): `hrm data sudoku
/// --from-csv` writes the same bytes, every file: the .npy arrays (uint8 tokens, int32 indices) and the JSON, which
/// both write as Python's json.dump does.
/// </summary>
public sealed class ReferenceDatasetTests : CliHarness
{
    [Fact]
    public void Sudoku_from_csv_writes_the_references_bytes()
    {
        string fixture = Path.Combine(AppContext.BaseDirectory, "fixtures", "reference", "sudoku-csv");
        (int code, _, string err) = Hrm("data", "sudoku", "--from-csv", fixture, "--out", P("ours"));
        Assert.True(code == 0, err);
        string reference = Path.Combine(fixture, "reference");
        string[] expected = Files(reference), ours = Files(P("ours"));
        Assert.Equal(expected, ours);
        Assert.Equal(13, expected.Length); // identifiers.json, and per split dataset.json and five arrays
        foreach (string file in expected)
        {
            byte[] theirs = File.ReadAllBytes(Path.Combine(reference, file));
            byte[] mine = File.ReadAllBytes(P(Path.Combine("ours", file)));
            Assert.True(theirs.AsSpan().SequenceEqual(mine),
                $"{file}: ours differs from the reference's ({mine.Length} vs {theirs.Length} bytes)\n" +
                (file.EndsWith(".json", StringComparison.Ordinal)
                    ? $"ours:   {Encoding.UTF8.GetString(mine)}\ntheirs: {Encoding.UTF8.GetString(theirs)}"
                    : ""));
        }
    }

    [Fact]
    public void Json_is_written_as_pythons_json_dump_writes_it()
    {
        // What python3 -c 'import json; print(json.dumps([...]))' and repr(float) print.
        Assert.Equal("""["<blank>", "\u00fcn\u00ef", "a\"b\\c\n\t\u0001/", "\ud83d\ude00", "007e\u007f"]""",
            PythonJson.StringList(["<blank>", "ünï", "a\"b\\c\n\t\u0001/", "😀", "007e\u007f"]));
        (double Value, string Repr)[] floats =
        [
            (1.0, "1.0"), (4.158150684931507, "4.158150684931507"), (1e15, "1000000000000000.0"), (1e16, "1e+16"),
            (1.2345678901234568e+17, "1.2345678901234568e+17"), (0.0001, "0.0001"), (1e-05, "1e-05"),
            (1.5e-07, "1.5e-07"), (123456789012345.6, "123456789012345.6"), (999999999999999.9, "999999999999999.9"),
            (-2.5, "-2.5"), (0.0, "0.0"), (100.0, "100.0"), (3.6334430102905877, "3.6334430102905877"),
            (-0.0, "-0.0"), (5e-324, "5e-324"), (double.MaxValue, "1.7976931348623157e+308"), (0.1, "0.1"),
            (12.0, "12.0"), (0.00012345, "0.00012345"),
        ];
        foreach ((double v, string repr) in floats)
            Assert.Equal(repr, PythonJson.Float(new StringBuilder(), v).ToString());
    }

    private static string[] Files(string root) =>
        [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
}
