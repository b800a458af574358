using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Hrm.Runtime.Solver;
using Hrm.Runtime.Tests.Simd;
using Hrm.Runtime.Tests.Solver;
using Hrm.Runtime.Tests.TestUtil;

namespace Hrm.Runtime.Tests.Embedding;

/// <summary>
/// Hrm.Runtime as a NuGet package, used the way an app outside this repository uses it: <c>dotnet pack</c>, then a new
/// console project that references the package from a folder feed (no other source: the package has no
/// dependencies) builds and solves puzzles with a checkpoint, answering exactly what this process answers. The package
/// carries the XML docs, its README and the build file that warns (HRM0001) when a NativeAOT publish for x64 names no
/// instruction set. Packages restore into the test's own folder, so a stale Hrm.Runtime never comes from the user's
/// NuGet cache. About 40 s on the 2-core CI machine.
/// </summary>
public sealed partial class NuGetPackageTests(ITestOutputHelper output)
{
    private const int TimeoutMs = 6 * 60 * 1000;

    /// <summary>The consumer app: loads the checkpoint in args[0] and solves the 4x4 puzzles after it.</summary>
    private const string Program = """
        using System.Globalization;
        using Hrm.Runtime.Solver;

        using var solver = HrmSolver.Load(args[0], new SolverOptions { Device = SolverDevice.Cpu });
        Console.WriteLine(solver.Device);
        foreach (string line in args.Skip(1))
        {
            SudokuResult r = solver.Solve(SudokuGrid.Parse(line, 4));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"answer {r.Answer.ToString().Replace("\n", "/", StringComparison.Ordinal)} valid {r.IsValid} segments {r.Segments} confidence {r.HaltConfidence:R}"));
        }
        """;

    private static readonly string[] Puzzles = ["1.34.4122.434.21", "..34341.2143..21", "1.3.3.1.2.4.4.2."];

    [Trait("Category", "Package")]
    [Fact]
    public void The_package_builds_into_a_new_app_that_solves_as_this_process_does()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable(NarrowSimdTests.Variable) != null,
            "this process is a narrow-SIMD run");
        string? dotnet = ChildProcess.Dotnet();
        Assert.SkipWhen(dotnet is null, "the .NET SDK (dotnet) is not on PATH: it packs the library");
        string? root = ChildProcess.RepoRoot();
        Assert.SkipWhen(root is null, "the repository (src/Hrm.Runtime) is not above the test binaries");

        using var dir = new Formats.TempDir();
        string feed = Path.Combine(dir.Path, "feed");
        Dotnet(dotnet!, "pack",
        [
            "pack", Path.Combine(root!, "src", "Hrm.Runtime"), "-c", "Release", "-o", feed,
            "--artifacts-path", Path.Combine(dir.Path, "artifacts"), "--disable-build-servers", "-p:NuGetAudit=false",
        ], dir.Path);
        string package = Assert.Single(Directory.GetFiles(feed, "Hrm.Runtime.*.nupkg"));
        string version = PackageVersion().Match(Path.GetFileName(package)).Groups[1].Value;
        using (ZipArchive zip = ZipFile.OpenRead(package))
        {
            string[] entries = [.. zip.Entries.Select(e => e.FullName)];
            foreach (string entry in (string[])["lib/net10.0/Hrm.Runtime.dll", "lib/net10.0/Hrm.Runtime.xml", "README.md",
                "buildTransitive/Hrm.Runtime.targets"])
                Assert.Contains(entry, entries);
            string nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec",
                StringComparison.Ordinal)).Open()).ReadToEnd();
            Assert.DoesNotContain("<dependency ", nuspec, StringComparison.Ordinal); // no package dependencies
            Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
        }

        // A project outside the repository: empty Directory.Build.* files stop MSBuild's search for more above it.
        string app = Path.Combine(dir.Path, "app");
        Directory.CreateDirectory(app);
        foreach (string f in (string[])["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props"])
            File.WriteAllText(Path.Combine(dir.Path, f), "<Project />\n");
        File.WriteAllText(Path.Combine(dir.Path, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
              <packageSourceMapping>
                <clear />
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <RestorePackagesPath>{Path.Combine(dir.Path, "packages")}</RestorePackagesPath>
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Hrm.Runtime" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);
        Dotnet(dotnet!, "build", ["build", app, "-c", "Release", "-o", Path.Combine(dir.Path, "app-bin"),
            "--disable-build-servers"], dir.Path);

        using var checkpoint = new TinyCheckpoint(seed: 13);
        (int rc, string log) = ChildProcess.Run(dotnet!, [Path.Combine(dir.Path, "app-bin", "app.dll"),
            checkpoint.Path, .. Puzzles], null, TimeoutMs);
        Assert.True(rc == 0, $"the app exited with {rc}:\n{ChildProcess.Tail(log, 40)}");
        string[] lines = log.Replace("\r", "", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var solver = HrmSolver.Load(checkpoint.Path, new SolverOptions { Device = SolverDevice.Cpu });
        Assert.Equal(solver.Device, lines[0]);
        string[] want = [.. Puzzles.Select(p =>
        {
            SudokuResult r = solver.Solve(SudokuGrid.Parse(p, 4));
            string answer = r.Answer.ToString().Replace("\n", "/", StringComparison.Ordinal);
            return string.Create(CultureInfo.InvariantCulture,
                $"answer {answer} valid {r.IsValid} segments {r.Segments} confidence {r.HaltConfidence:R}");
        })];
        Assert.Equal(want, lines[1..]);

        // The package's build file: HRM0001 for a NativeAOT publish for x64 without an instruction set, and only then.
        // Publish's own preparation step (what the warning hangs on), with the RID the SDK settles on.
        string[] check = ["msbuild", Path.Combine(app, "app.csproj"), "-restore:false", "-nologo", "-nodeReuse:false",
            "-t:PrepareForPublish", "-p:_IsPublishing=true", "-p:PublishAot=true", "-p:RuntimeIdentifier=linux-x64"];
        Assert.Contains("warning HRM0001: Hrm.Runtime: this NativeAOT publish for linux-x64 sets no IlcInstructionSet",
            Dotnet(dotnet!, "HRM0001 check", check, dir.Path, warningsExpected: true), StringComparison.Ordinal);
        foreach (string quiet in (string[])["-p:IlcInstructionSet=x86-64-v3", "-p:HrmAllowBaselineIsa=true",
            "-p:RuntimeIdentifier=linux-arm64"])
            Assert.DoesNotContain("HRM0001", Dotnet(dotnet!, $"HRM0001 check {quiet}", [.. check, quiet], dir.Path),
                StringComparison.Ordinal);
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
            Assert.Contains("HRM0001", Dotnet(dotnet!, "HRM0001 check, no RID", [.. check[..^1]], dir.Path,
                warningsExpected: true), StringComparison.Ordinal); // the SDK's own RID is x64
    }

    /// <summary>Runs dotnet in <paramref name="cwd"/>; fails with the log's tail on a non-zero exit or, unless
    /// expected, a warning.</summary>
    private string Dotnet(string dotnet, string what, string[] args, string cwd, bool warningsExpected = false)
    {
        var sw = Stopwatch.StartNew();
        (int rc, string log) = ChildProcess.Run("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", cwd, dotnet, .. args],
            null, TimeoutMs);
        // The pack restores the SDK's trimming analyzers (IsAotCompatible) from the user's feeds: none, no pack.
        Assert.SkipWhen(rc != 0 && what == "pack" && ChildProcess.IsRestoreFailure(log),
            $"the packages for dotnet pack could not be restored (no NuGet feed?):\n{ChildProcess.Tail(log, 20)}");
        Assert.True(rc == 0, $"dotnet {what} failed (exit {rc}):\n{ChildProcess.Tail(log, 60)}");
        if (!warningsExpected)
        {
            string[] warnings = ChildProcess.Warnings(log);
            Assert.True(warnings.Length == 0, $"dotnet {what} warned:\n{string.Join('\n', warnings)}");
        }
        output.WriteLine($"dotnet {what}: {sw.Elapsed.TotalSeconds:F0} s");
        return log;
    }

    [GeneratedRegex(@"^Hrm\.Runtime\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\.nupkg$")]
    private static partial Regex PackageVersion();
}
