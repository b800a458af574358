using Hrm.Runtime.Backends;
using Hrm.Runtime.Memory;

namespace Hrm.Runtime.Tests.TestUtil;

/// <summary>Host arrays to and from a backend's float buffers, for tests.</summary>
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
}
