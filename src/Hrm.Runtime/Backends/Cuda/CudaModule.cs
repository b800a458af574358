using System.Text;
using Hrm.Runtime.Backends.Cuda.Interop;

namespace Hrm.Runtime.Backends.Cuda;

/// <summary>
/// A CUBIN or PTX image loaded into a context with <c>cuModuleLoadDataEx</c>, the JIT error and info logs
/// captured; a load failure throws <see cref="CudaException"/> with the error log in the message. Functions are
/// looked up once per name and cached. Load once per context, at build time.
/// </summary>
internal sealed class CudaModule : IDisposable
{
    private const int LogBytes = 16 * 1024;

    private readonly CudaModuleHandle _module;
    private readonly Dictionary<string, CudaFunction> _functions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private CudaModule(CudaModuleHandle module, string name, string infoLog)
    {
        _module = module;
        Name = name;
        InfoLog = infoLog;
    }

    /// <summary>What was loaded (the source file name), for messages.</summary>
    public string Name { get; }

    /// <summary>The JIT info log (empty for a CUBIN that needed no JIT).</summary>
    public string InfoLog { get; }

    /// <summary>Loads <paramref name="image"/> (CUBIN, or PTX with or without a trailing NUL).</summary>
    public static unsafe CudaModule Load(CudaPrimaryContext context, ReadOnlySpan<byte> image, string name)
    {
        context.MakeCurrent();
        byte[] data = new byte[image.Length + 1]; // PTX must be NUL-terminated; harmless for CUBIN.
        image.CopyTo(data);
        byte[] errorLog = new byte[LogBytes];
        byte[] infoLog = new byte[LogBytes];
        CuJitOption* options = stackalloc CuJitOption[5];
        void** values = stackalloc void*[5];
        nint module;
        CuResult result;
        fixed (byte* pData = data, pError = errorLog, pInfo = infoLog)
        {
            options[0] = CuJitOption.ErrorLogBuffer;
            values[0] = pError;
            options[1] = CuJitOption.ErrorLogBufferSizeBytes;
            values[1] = (void*)LogBytes;
            options[2] = CuJitOption.InfoLogBuffer;
            values[2] = pInfo;
            options[3] = CuJitOption.InfoLogBufferSizeBytes;
            values[3] = (void*)LogBytes;
            options[4] = CuJitOption.LogVerbose;
            values[4] = (void*)1;
            result = CuDriver.cuModuleLoadDataEx(&module, pData, 5, options, values);
        }
        if (result != CuResult.Success)
        {
            string log = CString(errorLog) is { Length: > 0 } text ? text : "(empty)";
            throw new CudaException(CudaErrorKind.Driver, "cuModuleLoadDataEx", (int)result,
                CudaErrorText.DriverName(result), CudaErrorText.DriverText(result),
                detail: $"module '{name}' ({image.Length} bytes); JIT error log:\n{log}");
        }
        return new CudaModule(new CudaModuleHandle(context, module), name, CString(infoLog));
    }

    /// <summary>The kernel <paramref name="kernelName"/>; looked up once, then served from a cache.</summary>
    public unsafe CudaFunction GetFunction(string kernelName)
    {
        lock (_gate)
        {
            if (_functions.TryGetValue(kernelName, out CudaFunction cached)) return cached;
            byte[] utf8 = Encoding.UTF8.GetBytes(kernelName + "\0");
            nint function;
            CuResult result;
            fixed (byte* p = utf8) result = CuDriver.cuModuleGetFunction(&function, _module.Raw, p);
            if (result != CuResult.Success)
            {
                throw new CudaException(CudaErrorKind.Driver, "cuModuleGetFunction", (int)result,
                    CudaErrorText.DriverName(result), CudaErrorText.DriverText(result),
                    detail: $"kernel '{kernelName}' in module '{Name}' (is it declared extern \"C\" __global__?)");
            }
            var f = new CudaFunction(function, kernelName);
            _functions.Add(kernelName, f);
            return f;
        }
    }

    /// <summary>Unloads the module; functions obtained from it become invalid.</summary>
    public void Dispose() => _module.Dispose();

    private static string CString(byte[] buffer)
    {
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end).TrimEnd();
    }
}
