using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>Host arrays to and from a backend's float buffers (and bf16 views of them), for tests.</summary>
public static class BackendBuffers
{
    /// <summary>A new buffer holding <paramref name="host"/>.</summary>
    public static Buf Up(IHrmBackend backend, float[] host)
    {
        Buf b = backend.Allocate(host.Length, "test");
        backend.Upload(host, b);
        return b;
    }

    /// <summary>All of <paramref name="b"/> on the host.</summary>
    public static float[] Down(IHrmBackend backend, Buf b)
    {
        var host = new float[b.Length];
        backend.Download(b, host);
        return host;
    }

    /// <summary>A bf16 view of n elements over ⌈n/2⌉ floats, as the activation plan carves them.</summary>
    public static Buf AllocBf16(IHrmBackend gpu, long n)
    {
        Buf words = gpu.Allocate(Math.Max(1, (n + 1) / 2), "bf16");
        return new Buf(words.Address, n, sizeof(ushort));
    }

    /// <summary>A new bf16 view holding <paramref name="host"/> rounded to bf16 (RNE).</summary>
    public static Buf UpBf16(IHrmBackend gpu, float[] host)
    {
        Buf b = AllocBf16(gpu, host.Length);
        var words = new float[(host.Length + 1) / 2];
        for (int i = 0; i < host.Length; i++)
        {
            uint bits = BFloat16.FromFloat(host[i]);
            uint word = BitConverter.SingleToUInt32Bits(words[i / 2]);
            word = i % 2 == 0 ? (word & 0xFFFF0000u) | bits : (word & 0xFFFFu) | (bits << 16);
            words[i / 2] = BitConverter.UInt32BitsToSingle(word);
        }
        gpu.Upload(words, new Buf(b.Address, words.Length, sizeof(float)));
        return b;
    }

    /// <summary>All of the bf16 view <paramref name="b"/> on the host, widened to floats.</summary>
    public static float[] DownBf16(IHrmBackend gpu, Buf b)
    {
        var words = new float[(b.Length + 1) / 2];
        gpu.Download(new Buf(b.Address, words.Length, sizeof(float)), words);
        var host = new float[b.Length];
        for (int i = 0; i < host.Length; i++)
        {
            uint word = BitConverter.SingleToUInt32Bits(words[i / 2]);
            host[i] = BFloat16.ToFloat((ushort)(i % 2 == 0 ? word & 0xFFFF : word >> 16));
        }
        return host;
    }
}
