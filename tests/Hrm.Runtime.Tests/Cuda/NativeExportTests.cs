using System.Reflection;
using System.Runtime.InteropServices;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// Every declared entry point exists in the installed library (a typo or a version suffix that the library
/// lacks fails here, not at the first call on a GPU machine). Each library is skipped when it is not installed.
/// </summary>
public sealed class NativeExportTests(ITestOutputHelper output)
{
    public static TheoryData<string> Libraries() =>
        [CudaLibraryNames.Cuda, CudaLibraryNames.Nvrtc, CudaLibraryNames.CublasLt, CudaLibraryNames.Cublas];

    /// <summary>The entry points declared for <paramref name="library"/> (LibraryImport emits DllImports).</summary>
    internal static IReadOnlyList<string> EntryPoints(string library)
    {
        Type[] types = [typeof(CuDriver), typeof(Nvrtc), typeof(CublasLt), typeof(Cublas)];
        return [.. types
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Import: m.GetCustomAttribute<DllImportAttribute>()))
            .Where(x => x.Import is not null && x.Import.Value == library)
            .Select(x => x.Import!.EntryPoint ?? x.Method.Name)
            .Distinct()
            .Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Every_declared_entry_point_is_exported(string library)
    {
        IReadOnlyList<string> names = EntryPoints(library);
        Assert.NotEmpty(names);
        bool loaded = CudaLibraryResolver.TryLoad(library, out nint handle, out IReadOnlyList<string> tried);
        Assert.SkipUnless(loaded, $"{library} is not installed: {string.Join("; ", tried)}");
        string[] missing = [.. names.Where(n => !NativeLibrary.TryGetExport(handle, n, out _))];
        output.WriteLine($"{library}: {names.Count} entry points, missing: [{string.Join(", ", missing)}]");
        Assert.Empty(missing);
    }

    [Fact]
    public void Declarations_cover_the_required_driver_and_nvrtc_calls()
    {
        IReadOnlyList<string> driver = EntryPoints(CudaLibraryNames.Cuda);
        foreach (string name in new[]
                 {
                     "cuInit", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoDAsync_v2", "cuModuleLoadDataEx",
                     "cuLaunchKernel", "cuStreamBeginCapture_v2", "cuGraphInstantiateWithFlags", "cuGetErrorString",
                 })
        {
            Assert.Contains(name, driver);
        }
        Assert.Contains("nvrtcGetCUBIN", EntryPoints(CudaLibraryNames.Nvrtc));
        Assert.Contains("cublasLtMatmul", EntryPoints(CudaLibraryNames.CublasLt));
        Assert.Contains("cublasGemmStridedBatchedEx", EntryPoints(CudaLibraryNames.Cublas));
    }
}
