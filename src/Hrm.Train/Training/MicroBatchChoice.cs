using System.Globalization;
using Hrm.Runtime.Backends;
using Hrm.Runtime.Backends.Cuda;
using Hrm.Runtime.Model;

namespace Hrm.Train.Training;

/// <summary>
/// How many rows a training step takes at once (<see cref="TrainingStep"/>'s micro-batches). micro_batch_size 0
/// (the default) lets the trainer choose: the whole global batch when its training memory fits what the device has
/// free, else the largest divisor of it that fits, so that a reference config (ARC or Maze at batch 768: about 150 GiB
/// of activations with bf16 GEMMs) trains on one GPU, or on a CPU, with the reference's batch.
/// </summary>
internal static class MicroBatchChoice
{
    /// <summary>Kept free besides the estimate (the backend's scratch that scales with rows, CUDA's own use).</summary>
    private const double Headroom = 1.10;

    private const long Spare = 512L << 20;

    /// <summary>
    /// The largest divisor d of <paramref name="batch"/> with <paramref name="need"/>(d) &lt;= <paramref name="available"/>,
    /// trying the whole batch first; the whole batch when none fits (its allocation then says what failed).
    /// </summary>
    public static int Largest(int batch, Func<int, long> need, long available)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        for (int k = 1; k <= batch; k++)
        {
            if (batch % k != 0) continue;
            if (need(batch / k) <= available) return batch / k;
        }
        return batch;
    }

    /// <summary>
    /// Bytes a training step of <paramref name="batch"/> rows in micro-batches of <paramref name="micro"/> still needs
    /// on <paramref name="model"/>'s backend once the model exists (parameters and gradients are already allocated):
    /// the activations of <paramref name="micro"/> rows plus 10%, the AdamATan2 moments and, when split, the carry bank
    /// of all rows; plus 512 MiB spare.
    /// </summary>
    public static long NeedBytes(HrmModel model, int batch, int micro)
    {
        int e = model.Backend.ElementSize;
        long bytes = (long)(model.ActivationBytes(micro, training: true) * Headroom) + 2L * model.Layout.DenseElements * e;
        if (micro < batch)
            bytes += (2L * batch * model.Config.TotalSeqLen * model.Config.HiddenSize +
                      (long)batch * Math.Max(model.Config.PuzzleEmbNdim, 0)) * e +
                     (3L + 2L * model.Config.SeqLen) * batch * sizeof(int);
        return bytes + Spare;
    }

    /// <summary>Memory the backend can still allocate: free device memory on a GPU, available host memory otherwise.</summary>
    public static long AvailableBytes(IHrmBackend backend) => backend switch
    {
        ProfilingBackend p => AvailableBytes(p.Inner),
        CudaBackend cuda => cuda.FreeMemoryBytes,
        _ => HostAvailableBytes(),
    };

    /// <summary>
    /// The micro-batch for a run: <paramref name="configured"/> when &gt; 0 (micro_batch_size); else
    /// <paramref name="recorded"/> (a resumed run's, from compute.json; 0 there: the whole batch) when it still fits;
    /// else <see cref="Largest"/>. <paramref name="line"/> says why when the step is split by this choice.
    /// </summary>
    public static int Resolve(HrmModel model, int batch, int configured, int? recorded, out string? line)
    {
        line = null;
        if (configured > 0) return configured;
        long available = AvailableBytes(model.Backend);
        if (recorded is { } r)
        {
            int was = r == 0 ? batch : r;
            if (batch % was != 0)
                line = $"note: compute.json's micro_batch {r} does not divide global_batch_size ({batch}); choosing anew";
            else if (NeedBytes(model, batch, was) <= available) return was;
        }
        int micro = Largest(batch, b => NeedBytes(model, batch, b), available);
        if (micro < batch)
        {
            line = (line != null ? line + "\n" : "") + string.Create(CultureInfo.InvariantCulture,
                $"micro-batches: {batch / micro} x {micro} rows a step (micro_batch_size 0 = auto: the batch of {batch} " +
                $"needs about {Gib(NeedBytes(model, batch, batch))} GiB, {Gib(available)} GiB are available on " +
                $"{model.Backend.Name}; the gradients add up over the micro-batches, one optimiser update a step)");
        }
        return micro;
    }

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>MemAvailable of /proc/meminfo where there is one, else what the GC reports as available.</summary>
    private static long HostAvailableBytes()
    {
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            foreach (string l in File.ReadLines("/proc/meminfo"))
            {
                if (!l.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                string[] parts = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    return Math.Min(kb * 1024, gc);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return gc;
    }
}
