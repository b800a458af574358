using Hrm.Runtime.Backends.Cpu;
using Hrm.Runtime.Config;
using Hrm.Runtime.Model;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Cli;

/// <summary><c>hrm init</c>: writes a freshly initialised checkpoint.</summary>
internal static class InitCommand
{
    public const string Usage = "hrm init (--config FILE | --preset NAME) [--seed N] --out model.safetensors";

    public static int Run(ReadOnlySpan<string> argv, TextWriter o, TextWriter err)
    {
        var args = new CliArgs("init", argv, ["config", "preset", "seed", "out"]);
        HrmConfig cfg = ConfigSource.FromArgs(args, "init", err)!;
        string output = args.GetOutFile("out") ?? args.Require("out");
        args.CheckNotInput("out", "config");
        ulong seed = args.GetSeed("seed", 0);
        // Initialisation happens on the host; the float32 values are identical whatever backend later loads them.
        using var model = new HrmModel(cfg, new CpuBackend(1));
        model.Initialize(new HrmRandom(seed));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!); // as convert, solve and render
        HrmCheckpoint.Save(model, output);
        o.WriteLine($"wrote {output}: {model.Layout.ParameterCount:N0} parameters, seed {seed}");
        return 0;
    }
}
