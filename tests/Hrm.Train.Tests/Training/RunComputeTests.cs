using Hrm.Runtime.Formats;
using Hrm.Train.Training;

namespace Hrm.Train.Tests.Training;

/// <summary><see cref="RunCompute"/>: compute.json written and read back, files from before a field existed, the
/// arithmetic in words and the note on a change.</summary>
public sealed class RunComputeTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-compute-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_record_reads_back_as_written_and_older_files_read_with_the_defaults()
    {
        var stream = new RunCompute("cuda", true, 0, 16, Bf16Stream: true);
        stream.Write(_dir.FullName);
        Assert.Contains("\"bf16_stream\":true", File.ReadAllText(Path.Combine(_dir.FullName, RunCompute.FileName)),
            StringComparison.Ordinal);
        Assert.Equal(stream, RunCompute.Read(_dir.FullName));
        File.WriteAllText(Path.Combine(_dir.FullName, RunCompute.FileName),
            "{\"device\":\"cuda\",\"bf16_matmul\":true,\"threads\":0}"); // before micro_batch and bf16_stream
        Assert.Equal(new RunCompute("cuda", true, 0, 0, Bf16Stream: false), RunCompute.Read(_dir.FullName));
        File.WriteAllText(Path.Combine(_dir.FullName, RunCompute.FileName),
            "{\"device\":\"cuda\",\"bf16_matmul\":true,\"threads\":0,\"bf16_stream\":1}");
        string e = Assert.Throws<HrmFormatException>(() => RunCompute.Read(_dir.FullName)).Message;
        Assert.Contains("bf16_stream: expected true or false", e, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stream_is_part_of_the_arithmetic_in_words_with_bf16_gemms_only()
    {
        var plain = new RunCompute("cuda", true, 0);
        var stream = plain with { Bf16Stream = true };
        Assert.Equal("cuda with bf16 GEMMs and an fp32 residual stream", plain.Describe());
        Assert.Equal("cuda with bf16 GEMMs and a bf16 residual stream", stream.Describe());
        Assert.Equal("cuda with fp32 GEMMs", (stream with { Bf16Matmul = false }).Describe());
        Assert.Equal("cpu with 2 threads (fp32)", new RunCompute("cpu", true, 2, 0, Bf16Stream: true).Describe());
        Assert.Null(stream.ChangeTo(stream));
        Assert.Contains("computed on cuda with bf16 GEMMs and a bf16 residual stream and the run continues on cuda " +
            "with bf16 GEMMs and an fp32 residual stream:", stream.ChangeTo(plain), StringComparison.Ordinal);
    }
}
