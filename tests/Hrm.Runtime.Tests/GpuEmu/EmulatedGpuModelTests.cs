namespace Hrm.Runtime.Tests.GpuEmu;

/// <summary>
/// The GPU model test class (<see cref="EmulatedGpuTests.ModelClass"/>: the whole model at Sudoku's widths against the
/// CPU backend) on the CPU emulator, in a child process of its own. Its own class, so that xunit runs it next to
/// <see cref="EmulatedGpuTests"/> (one collection per class) instead of after it: each child runs its GPU tests one
/// at a time (collection "Cuda"), and together they were 7.5 minutes of one core on the 2-core machine, two thirds of
/// them this class's. That helps where a core would otherwise idle at the end of the run (the test executable alone:
/// 11.2 -> 9.6 min); under .ci/run, with every core busy to the end, no gain showed. Skipped without g++ or NVRTC, as
/// those are.
/// </summary>
public sealed class EmulatedGpuModelTests(ITestOutputHelper output)
{
    [Trait("Category", "GpuEmu")]
    [Fact]
    public void The_gpu_model_tests_pass_on_the_cpu_emulator()
    {
        string root = EmulatedGpuTests.RootOrSkip(needsNvrtc: true);
        string lib = EmulatedGpuTests.Build(root, output);
        (int rc, string log) = EmulatedGpuTests.RunChild(lib, ["-class", EmulatedGpuTests.ModelClass], reverse: false,
            output);
        EmulatedGpuTests.AssertPassed(rc, log, minRun: 13, output); // all 13 cases: none needs a real GPU
    }
}
