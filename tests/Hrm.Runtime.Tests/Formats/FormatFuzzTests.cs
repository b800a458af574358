using Hrm.Runtime.Formats;

namespace Hrm.Runtime.Tests.Formats;

/// <summary>Corrupted files must fail with <see cref="HrmFormatException"/> only, never a raw runtime exception.</summary>
public sealed class FormatFuzzTests
{
    private const int Iterations = 400;

    private static byte[] Mutate(Random rng, byte[] original, int headerEnd)
    {
        byte[] b = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0:
                b[rng.Next(headerEnd)] = (byte)rng.Next(256);
                break;
            case 1:
                b[rng.Next(headerEnd)] = (byte)"0123456789-[]{},:\"'() eE."[rng.Next(25)];
                break;
            case 2:
                return b[..rng.Next(b.Length)];
            default:
                int i = rng.Next(headerEnd);
                b[i] ^= (byte)(1 << rng.Next(8));
                break;
        }
        return b;
    }

    [Fact]
    public void Corrupted_safetensors_fail_cleanly()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        w.Add("_orig_mod.a", TensorDType.BF16, [2, 3], [1f, 2f, 3f, 4f, 5f, 6f]);
        w.AddInt32("b", TensorDType.I64, [3], [7, -8, 9]);
        w.Add("c", TensorDType.F32, [2], [0.5f, -0.25f]);
        w.SetMetadata("k", "v");
        string good = dir.File("good.safetensors");
        w.Save(good);
        byte[] original = File.ReadAllBytes(good);
        int headerEnd = (int)(8 + BitConverter.ToUInt64(original));
        var rng = new Random(99);
        string path = dir.File("fuzz.safetensors");
        for (int iter = 0; iter < Iterations; iter++)
        {
            File.WriteAllBytes(path, Mutate(rng, original, headerEnd));
            try
            {
                using SafeTensorsFile f = SafeTensorsFile.Open(path);
                foreach (SafeTensorInfo t in f.Tensors)
                {
                    if (TensorDTypes.IsFloat(t.DType)) f.ReadAsFloat32(t.Name, new float[t.ElementCount]);
                    else f.ReadAsInt32(t.Name, new int[t.ElementCount]);
                }
            }
            catch (HrmFormatException)
            {
                // expected for most mutations
            }
        }
    }

    [Fact]
    public void Corrupted_npy_files_fail_cleanly()
    {
        using var dir = new TempDir();
        string good = dir.File("good.npy");
        Npy.WriteInt32(good, [1, -2, 3, -4, 5, -6], [2, 3]);
        byte[] original = File.ReadAllBytes(good);
        var rng = new Random(98);
        string path = dir.File("fuzz.npy");
        for (int iter = 0; iter < Iterations; iter++)
        {
            File.WriteAllBytes(path, Mutate(rng, original, original.Length - 24));
            try
            {
                NpyArray a = Npy.Read(path);
                if (a.Descr.Contains('f', StringComparison.Ordinal)) _ = a.ToFloat32();
                else _ = a.ToInt32();
            }
            catch (HrmFormatException)
            {
                // expected for most mutations
            }
        }
    }
}
