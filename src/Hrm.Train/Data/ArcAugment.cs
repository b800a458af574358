using System.Buffers.Binary;
using System.Security.Cryptography;
using Hrm.Runtime.Arc;
using Hrm.Runtime.Numerics;

namespace Hrm.Train.Data;

/// <summary>
/// The reference's ARC augmentation (spec 5.4): a task's group starts with the original; then up to
/// <see cref="RetriesFactor"/> x numAug attempts each draw a dihedral id uniform in 0..7 and a colour permutation
/// fixing 0, and keep the view unless its content hash (SHA-256 over the sorted SHA-256 hashes of its pairs,
/// shapes included, train and test pairs together) equals one already in the group; stop at 1 + numAug views.
/// </summary>
public static class ArcAugment
{
    /// <summary>Attempts per wanted view.</summary>
    public const int RetriesFactor = 5;

    /// <summary>
    /// The views of one task: the original first, then up to <paramref name="numAug"/> distinct ones.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="numAug">Augmented views wanted.</param>
    /// <param name="rng">The task's generator.</param>
    /// <returns>1 + (at most numAug) views; fewer when the task has fewer distinct views than asked for.</returns>
    public static List<ArcView> Views(ArcTask task, int numAug, HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(numAug);
        var views = new List<ArcView>(numAug + 1) { ArcView.Original };
        if (numAug == 0) return views;
        ArcPair[] pairs = [.. task.AllPairs];
        var seen = new HashSet<UInt128> { ContentHash(pairs, ArcView.Original) };
        for (long attempt = 0; attempt < (long)RetriesFactor * numAug && views.Count < numAug + 1; attempt++)
        {
            int tid = rng.NextInt(0, Dihedral.Count);
            var view = new ArcView(tid, ArcColorMap.Random(rng));
            if (seen.Add(ContentHash(pairs, view))) views.Add(view);
        }
        return views;
    }

    /// <summary>The content hash of a view of some pairs (its first 128 bits): equal hashes mean equal views.</summary>
    /// <param name="pairs">The task's pairs.</param>
    /// <param name="view">The view.</param>
    /// <returns>The hash.</returns>
    public static UInt128 ContentHash(IReadOnlyList<ArcPair> pairs, ArcView view)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(view);
        const int HashBytes = 32;
        byte[] pairHashes = new byte[pairs.Count * HashBytes];
        Span<byte> buffer = stackalloc byte[2 * (2 + ArcEncoding.SeqLen)];
        Span<byte> scratch = stackalloc byte[ArcEncoding.SeqLen];
        for (int p = 0; p < pairs.Count; p++)
        {
            int n = Write(pairs[p].Input, view, buffer, scratch);
            n += Write(pairs[p].Output, view, buffer[n..], scratch);
            SHA256.HashData(buffer[..n], pairHashes.AsSpan(p * HashBytes, HashBytes));
        }
        var order = new byte[pairs.Count][];
        for (int p = 0; p < order.Length; p++) order[p] = pairHashes.AsSpan(p * HashBytes, HashBytes).ToArray();
        Array.Sort(order, static (a, b) => a.AsSpan().SequenceCompareTo(b));
        byte[] sorted = [.. order.SelectMany(h => h)];
        Span<byte> digest = stackalloc byte[HashBytes];
        SHA256.HashData(sorted, digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    /// <summary>Writes rows, cols and the cells of view(grid) to dst; returns the bytes written.</summary>
    private static int Write(ArcGrid grid, ArcView view, Span<byte> dst, Span<byte> scratch)
    {
        int cells = grid.Rows * grid.Cols;
        (int rows, int cols) = Dihedral.Shape(view.Tid, grid.Rows, grid.Cols);
        dst[0] = (byte)rows;
        dst[1] = (byte)cols;
        Dihedral.Apply(view.Tid, grid.Cells, grid.Rows, grid.Cols, scratch[..cells]);
        ReadOnlySpan<byte> map = view.Map.Map;
        for (int i = 0; i < cells; i++) dst[2 + i] = map[scratch[i]];
        return 2 + cells;
    }
}
