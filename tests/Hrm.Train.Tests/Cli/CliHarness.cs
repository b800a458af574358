using Hrm.Train.Cli;

namespace Hrm.Train.Tests.Cli;

/// <summary>Runs <c>hrm</c> in-process with captured output, in a temporary directory removed afterwards.</summary>
public abstract class CliHarness : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hrm-cli-");

    public void Dispose()
    {
        _dir.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string P(string name) => Path.Combine(_dir.FullName, name);

    protected static (int Code, string Out, string Err) Hrm(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CommandLine.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
