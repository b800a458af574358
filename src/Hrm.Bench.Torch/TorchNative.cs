using System.Runtime.InteropServices;
using Hrm.Bench.Torch.Build;
using TorchSharp;

namespace Hrm.Bench.Torch;

/// <summary>
/// Loads libtorch once and says why not when it cannot. TorchSharp's own loader, on failure, copies all of libtorch
/// (~500 MB) next to the assembly and retries; to avoid that and to report the loader's real error, the native glue
/// is first opened here directly.
/// </summary>
public static class TorchNative
{
    private static readonly Lazy<string?> Failure = new(Load);

    /// <summary>The version requirement the build marks weak in the copied glue (see build/Hrm.Bench.Torch.targets).</summary>
    public const string WeakenedVersion = "GLIBCXX_3.4.32";

    /// <summary>True when libtorch is loaded and usable on the CPU; otherwise <paramref name="reason"/> says why.</summary>
    public static bool TryLoad(out string reason)
    {
        reason = Failure.Value ?? "";
        return Failure.Value == null;
    }

    /// <summary>Loads libtorch or throws <see cref="InvalidOperationException"/> with the reason.</summary>
    public static void EnsureLoaded()
    {
        if (!TryLoad(out string reason)) throw new InvalidOperationException(reason);
    }

    /// <summary>The glue library next to TorchSharp.dll (null when this platform keeps it elsewhere).</summary>
    public static string? GluePath()
    {
        string dir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            Path.Combine(dir, "libLibTorchSharp.so"),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    private static string? Load()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return $"the twin references libtorch for linux-x64 only; this is {RuntimeInformation.RuntimeIdentifier}";
        string? glue = GluePath();
        if (glue == null) return $"libLibTorchSharp.so not found next to {typeof(torch).Assembly.Location}";
        try
        {
            NativeLibrary.Load(glue);
        }
        catch (DllNotFoundException e)
        {
            string hint = "";
            if (e.Message.Contains(WeakenedVersion, StringComparison.Ordinal))
            {
                bool weak = ElfVersionNeeds.Read(glue).Any(n => n.Version == WeakenedVersion && n.IsWeak);
                hint = weak
                    ? $" ({WeakenedVersion} is marked weak in that file, yet the loader still refuses it)"
                    : $" ---> HINT: the build marks {WeakenedVersion} weak in this copy (target " +
                      "HrmMarkLibTorchSharpVersionWeak in src/Hrm.Bench.Torch/build/Hrm.Bench.Torch.targets); " +
                      "rebuild with `dotnet build -c Release`, or put a libstdc++ that has it on LD_LIBRARY_PATH";
            }
            return $"libtorch could not be loaded: {e.Message}{hint}";
        }
        try
        {
            if (!torch.TryInitializeDeviceType(DeviceType.CPU)) return "TorchSharp could not initialise the CPU device";
            using torch.Tensor probe = torch.ones(2);
            using torch.Tensor sum = probe.sum();
            return sum.item<float>() == 2f ? null : "libtorch loaded but computed 1 + 1 != 2";
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            string message = (e.InnerException ?? e).Message;
            int cut = message.IndexOf('\n', StringComparison.Ordinal);
            return "TorchSharp could not initialise libtorch: " + (cut > 0 ? message[..cut] : message);
        }
    }
}
