using System.Text.Json;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Config;

/// <summary>
/// An architecture read from a file: a JSON object of the reference's arch keys, a run config with an <c>arch</c>
/// member, or the reference's own <c>all_config.yaml</c> (YAML as PyYAML writes it: any file that does not open with
/// '{'). A reference checkpoint carries no architecture: pass this with it
/// (<c>SolverOptions.Config</c>, <c>hrm ... --config FILE</c>). The reference builds its model from the run's arch
/// and the dataset's metadata, so a run config leaves <c>seq_len</c>, <c>vocab_size</c> and
/// <c>num_puzzle_identifiers</c> out: <see cref="WithDataset"/> takes them from the dataset where the file does not
/// give them, and without one the defaults are Sudoku-Extreme's (81, 11, 1).
/// </summary>
/// <param name="Config">The architecture (defaults for every key the file leaves out).</param>
/// <param name="GivenKeys">The arch keys the file gives.</param>
public sealed record HrmConfigFile(HrmConfig Config, IReadOnlySet<string> GivenKeys)
{
    /// <summary>The LM loss the run trained with, where the file says (the reference's <c>arch.loss.loss_type</c>:
    /// stablemax_cross_entropy or softmax_cross_entropy); null where it does not.</summary>
    public string? LossType { get; init; }

    /// <summary>Reads <paramref name="path"/>; <paramref name="warnings"/> receives one line per reference key that
    /// carries no architecture for us (batch_size, forward_dtype).</summary>
    /// <exception cref="HrmConfigException">Unreadable file, bad JSON or YAML, an unknown key or a bad value; the
    /// message names the file and the line or key.</exception>
    public static HrmConfigFile Load(string path, List<string>? warnings = null)
    {
        string text;
        if (Directory.Exists(path)) throw new HrmConfigException($"{path}: is a directory; expected a config file");
        try
        {
            // A config is a few KB; anything past 16 MiB is not one (and reading it whole could exhaust memory).
            text = BoundedFile.ReadAllText(path, "config file", BoundedFile.MaxJsonBytes);
        }
        catch (HrmFormatException e)
        {
            throw new HrmConfigException(e.Message, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new HrmConfigException($"{path}: cannot read the config file ({e.Message})", e);
        }
        // JSON is YAML too, but this reader takes only block YAML: text that opens with '{' (after comments) is read
        // as JSON, whatever the file's name.
        if (string.IsNullOrWhiteSpace(text))
            throw new HrmConfigException($"{path}: the file is empty; expected the arch keys (JSON) or a run's all_config.yaml");
        bool yaml = !YamlSubset.IsJsonObject(text);
        string json = yaml ? YamlSubset.ToJson(text, path) : text;
        try
        {
            using JsonDocument doc = JsonText.Parse(json, comments: true);
            JsonElement root = doc.RootElement;
            if (JsonText.FirstBadText(root) is { } bad) throw new HrmConfigException($"{path}: {bad}: {JsonText.BadTextMessage}");
            bool run = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("arch", out _);
            JsonElement arch = run ? root.GetProperty("arch") : root;
            string source = run ? $"{path}: arch" : path;
            HrmConfig cfg;
            try
            {
                cfg = HrmConfigJson.FromElement(arch, warnings, source);
            }
            catch (HrmConfigException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
            {
                throw new HrmConfigException($"{source}: {e.Message}", e.Field, e); // a bad value: name the file too
            }
            var keys = new HashSet<string>(arch.EnumerateObject().Select(p => p.Name), StringComparer.Ordinal);
            string? lossType = arch.TryGetProperty("loss", out JsonElement loss) ? HrmConfigJson.LossTypeOf(loss) : null;
            return new HrmConfigFile(cfg, keys) { LossType = lossType };
        }
        catch (JsonException e)
        {
            throw new HrmConfigException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>The config with a dataset's <c>seq_len</c>, <c>vocab_size</c> and <c>num_puzzle_identifiers</c> where
    /// the file does not give them (the reference takes them from the dataset; a key the file gives stays, and a
    /// mismatch with the dataset is the caller's to report).</summary>
    public HrmConfig WithDataset(int seqLen, int vocabSize, int numPuzzleIdentifiers) => Config with
    {
        SeqLen = GivenKeys.Contains("seq_len") ? Config.SeqLen : seqLen,
        VocabSize = GivenKeys.Contains("vocab_size") ? Config.VocabSize : vocabSize,
        NumPuzzleIdentifiers = GivenKeys.Contains("num_puzzle_identifiers") ? Config.NumPuzzleIdentifiers : numPuzzleIdentifiers,
    };
}
