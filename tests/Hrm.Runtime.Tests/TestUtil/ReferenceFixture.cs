using Hrm.Runtime.Config;
using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>
/// One folder of <c>tests/fixtures/reference</c>: what the PyTorch reference HRM itself computed, written by
/// <c>scripts/reference-fixtures.py</c> (PyTorch 1.13, the reference's model, loss and ACT code): its checkpoint
/// (<c>step_N</c>, torch.save), the run's <c>all_config.yaml</c> (PyYAML) and <c>expected.safetensors</c> (the batches
/// and the reference's outputs, losses and gradients; the script's docstring names every tensor). Copied next to
/// the test assemblies (and into the gpu-check bundle) by the test projects.
/// </summary>
public sealed class ReferenceFixture : IDisposable
{
    private readonly SafeTensorsFile _expected;

    private ReferenceFixture(string name)
    {
        Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "reference", name);
        CheckpointPath = Directory.GetFiles(Folder, "step_*").Single();
        ConfigPath = Path.Combine(Folder, "all_config.yaml");
        _expected = SafeTensorsFile.Open(Path.Combine(Folder, "expected.safetensors"));
        int[] dims = Ints("dims");
        Config = HrmConfigFile.Load(ConfigPath).WithDataset(dims[0], dims[1], dims[2]);
    }

    /// <summary>The fixture folder.</summary>
    public string Folder { get; }

    /// <summary>The reference's checkpoint file (torch.save of the state dict).</summary>
    public string CheckpointPath { get; }

    /// <summary>The run's all_config.yaml.</summary>
    public string ConfigPath { get; }

    /// <summary>The architecture: the YAML's arch with the dataset dims the fixture was made with.</summary>
    public HrmConfig Config { get; }

    /// <summary>Opens fixture <paramref name="name"/> (rope-fp32, learned-bf16).</summary>
    public static ReferenceFixture Open(string name) => new(name);

    /// <summary>True when the expected file holds <paramref name="name"/>.</summary>
    public bool Has(string name) => _expected.Contains(name);

    /// <summary>The parameter names of the gradients stored under <paramref name="prefix"/>/grad/.</summary>
    public IEnumerable<string> GradientNames(string prefix) => _expected.Tensors
        .Where(t => t.Name.StartsWith(prefix + "/grad/", StringComparison.Ordinal))
        .Select(t => t.Name[(prefix.Length + 6)..]);

    /// <summary>An expected float tensor (F32, or F64 narrowed).</summary>
    public float[] Floats(string name)
    {
        var a = new float[_expected.Get(name).ElementCount];
        _expected.ReadAsFloat32(name, a);
        return a;
    }

    /// <summary>An expected int32 tensor.</summary>
    public int[] Ints(string name)
    {
        var a = new int[_expected.Get(name).ElementCount];
        _expected.ReadAsInt32(name, a);
        return a;
    }

    /// <summary>‖a − b‖ / ‖b‖ in double.</summary>
    public static double RelNorm(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(b.Length, a.Length);
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            num += d * d;
            den += (double)b[i] * b[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-300));
    }

    public void Dispose() => _expected.Dispose();
}
