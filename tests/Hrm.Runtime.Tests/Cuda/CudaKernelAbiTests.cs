using System.Text;
using System.Text.RegularExpressions;
using Hrm.Runtime.Backends.Cuda;

namespace Hrm.Runtime.Tests.Cuda;

/// <summary>
/// The CUDA backend's kernel table (name and parameter signature of every launch) against the PTX NVRTC emits for
/// native/kernels: every kernel exists, with the right number of parameters of the right sizes (p/l → .u64,
/// i → .u32/.s32, f → .f32). Needs NVRTC only, so it runs without a GPU.
/// </summary>
public sealed partial class CudaKernelAbiTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_launched_kernel_exists_with_the_signature_the_backend_packs()
    {
        KernelCompiler compiler = TestKernels.HostCompilerOrSkip(cache: null);
        var problems = new List<string>();
        foreach (IGrouping<string, KernelSignature> file in CudaKernels.Table.GroupBy(k => k.File))
        {
            Assert.Contains(file.Key, CudaKernels.Files);
            CompiledKernel k = compiler.CompileEmbedded(file.Key, KernelTarget.VirtualPtx(80));
            string ptx = Encoding.UTF8.GetString(k.Image).TrimEnd('\0');
            Dictionary<string, string> entries = Entries(ptx);
            foreach (KernelSignature s in file)
            {
                if (!entries.TryGetValue(s.Name, out string? ptxSignature))
                {
                    problems.Add($"{s.File}: no entry '{s.Name}' (entries: {string.Join(", ", entries.Keys)})");
                    continue;
                }
                string expected = new([.. s.Parameters.Select(c => c is 'p' or 'l' ? '8' : '4')]);
                string typed = new([.. s.Parameters.Select(c => c == 'f' ? 'f' : c == 'i' ? 'u' : '8')]);
                output.WriteLine($"{s.Name,-42} table {s.Parameters,-12} ptx {ptxSignature}");
                if (Sizes(ptxSignature) != expected || Kinds(ptxSignature) != typed)
                    problems.Add($"{s.Name}: the backend packs '{s.Parameters}', the PTX takes '{ptxSignature}'");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>entry name → its parameter types joined by spaces, e.g. "u64 u64 u32 f32".</summary>
    private static Dictionary<string, string> Entries(string ptx)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in EntryRegex().Matches(ptx))
            d[m.Groups[1].Value] = string.Join(' ', ParamRegex().Matches(m.Groups[2].Value).Select(p => p.Groups[1].Value));
        return d;
    }

    private static string Sizes(string ptx) =>
        new([.. ptx.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(t => t.EndsWith("64", StringComparison.Ordinal) ? '8' : '4')]);

    private static string Kinds(string ptx) =>
        new([.. ptx.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.EndsWith("64", StringComparison.Ordinal) ? '8' : t.StartsWith('f') ? 'f' : 'u')]);

    [GeneratedRegex(@"\.entry\s+(\w+)\s*\(([^)]*)\)")]
    private static partial Regex EntryRegex();

    [GeneratedRegex(@"\.param\s+\.(\w+)")]
    private static partial Regex ParamRegex();
}
