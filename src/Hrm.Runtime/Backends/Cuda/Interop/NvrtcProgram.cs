using System.Runtime.InteropServices;
using System.Text;

namespace Hrm.Runtime.Backends.Cuda.Interop;

/// <summary>
/// An owned NVRTC program (<c>nvrtcCreateProgram</c> / <c>nvrtcDestroyProgram</c>) with its in-memory headers,
/// and the checked calls to compile it and read back the log, PTX and CUBIN.
/// </summary>
internal sealed unsafe class NvrtcProgram : SafeHandle
{
    private NvrtcProgram(nint program) : base(0, ownsHandle: true) => SetHandle(program);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Creates a program from <paramref name="source"/> named <paramref name="name"/>; each header is
    /// reachable as <c>#include "&lt;key&gt;"</c>.
    /// </summary>
    public static NvrtcProgram Create(string source, string name, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        byte[] src = Utf8Z(source);
        byte[] nm = Utf8Z(name);
        var pinned = new List<GCHandle>();
        try
        {
            byte** texts = stackalloc byte*[Math.Max(1, headers.Count)];
            byte** names = stackalloc byte*[Math.Max(1, headers.Count)];
            for (int i = 0; i < headers.Count; i++)
            {
                texts[i] = Pin(Utf8Z(headers[i].Value), pinned);
                names[i] = Pin(Utf8Z(headers[i].Key), pinned);
            }
            nint program;
            fixed (byte* pSrc = src, pName = nm)
            {
                CudaCheck.Nvrtc(Nvrtc.nvrtcCreateProgram(&program, pSrc, pName, headers.Count,
                    headers.Count == 0 ? null : texts, headers.Count == 0 ? null : names));
            }
            return new NvrtcProgram(program);
        }
        finally
        {
            foreach (GCHandle h in pinned) h.Free();
        }
    }

    /// <summary>Runs <c>nvrtcCompileProgram</c>; returns its status (the log says why it failed).</summary>
    public NvrtcResult Compile(IReadOnlyList<string> options)
    {
        var pinned = new List<GCHandle>();
        try
        {
            byte** opts = stackalloc byte*[Math.Max(1, options.Count)];
            for (int i = 0; i < options.Count; i++) opts[i] = Pin(Utf8Z(options[i]), pinned);
            return Nvrtc.nvrtcCompileProgram(handle, options.Count, opts);
        }
        finally
        {
            foreach (GCHandle h in pinned) h.Free();
        }
    }

    /// <summary>The program log (compiler diagnostics and, with <c>--ptxas-options=-v</c>, ptxas info lines).</summary>
    public string Log()
    {
        nuint size;
        CudaCheck.Nvrtc(Nvrtc.nvrtcGetProgramLogSize(handle, &size));
        byte[] buffer = new byte[(int)size + 1];
        fixed (byte* p = buffer) CudaCheck.Nvrtc(Nvrtc.nvrtcGetProgramLog(handle, p));
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    /// <summary>The PTX text, including its terminating NUL (as NVRTC returns it).</summary>
    public byte[] Ptx()
    {
        nuint size;
        CudaCheck.Nvrtc(Nvrtc.nvrtcGetPTXSize(handle, &size));
        byte[] ptx = new byte[(int)size];
        fixed (byte* p = ptx) CudaCheck.Nvrtc(Nvrtc.nvrtcGetPTX(handle, p));
        return ptx;
    }

    /// <summary>The CUBIN (only for an <c>sm_XX</c> target).</summary>
    public byte[] Cubin()
    {
        nuint size;
        CudaCheck.Nvrtc(Nvrtc.nvrtcGetCUBINSize(handle, &size));
        byte[] cubin = new byte[(int)size];
        fixed (byte* p = cubin) CudaCheck.Nvrtc(Nvrtc.nvrtcGetCUBIN(handle, p));
        return cubin;
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        nint program = handle;
        return Nvrtc.nvrtcDestroyProgram(&program) == NvrtcResult.Success;
    }

    private static byte[] Utf8Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    private static byte* Pin(byte[] bytes, List<GCHandle> pinned)
    {
        GCHandle h = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        pinned.Add(h);
        return (byte*)h.AddrOfPinnedObject();
    }
}
