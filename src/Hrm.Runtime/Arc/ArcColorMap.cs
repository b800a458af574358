using Hrm.Runtime.Numerics;

namespace Hrm.Runtime.Arc;

/// <summary>
/// A permutation of the ARC colours 0..9 that keeps 0 (black) fixed (spec 5.4). Written in view names as its ten
/// digits (<c>map[0] map[1] ... map[9]</c>), so the identity is "0123456789".
/// </summary>
public sealed class ArcColorMap
{
    /// <summary>Number of colours.</summary>
    public const int Colors = 10;

    private readonly byte[] _map;

    private ArcColorMap(byte[] map) => _map = map;

    /// <summary>The identity map.</summary>
    public static ArcColorMap Identity { get; } = new([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    /// <summary>map[c] for colour c.</summary>
    public ReadOnlySpan<byte> Map => _map;

    /// <summary>A uniformly random permutation of 1..9 (0 fixed): a Fisher-Yates shuffle of 1..9.</summary>
    /// <param name="rng">The randomness.</param>
    /// <returns>The map.</returns>
    public static ArcColorMap Random(HrmRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        byte[] map = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        for (int i = Colors - 1; i > 1; i--)
        {
            int j = rng.NextInt(1, i + 1);
            (map[i], map[j]) = (map[j], map[i]);
        }
        return new ArcColorMap(map);
    }

    /// <summary>Parses the ten-digit form; null unless it is a permutation of 0..9 with 0 first.</summary>
    /// <param name="digits">Ten digits.</param>
    /// <returns>The map, or null.</returns>
    public static ArcColorMap? TryParse(ReadOnlySpan<char> digits)
    {
        if (digits.Length != Colors || digits[0] != '0') return null;
        byte[] map = new byte[Colors];
        int seen = 0;
        for (int i = 0; i < Colors; i++)
        {
            int d = digits[i] - '0';
            if ((uint)d >= Colors || (seen & (1 << d)) != 0) return null;
            seen |= 1 << d;
            map[i] = (byte)d;
        }
        return new ArcColorMap(map);
    }

    /// <summary>The inverse permutation (numpy's <c>argsort</c> of the map).</summary>
    /// <returns>The map m' with m'[m[c]] = c.</returns>
    public ArcColorMap Inverse()
    {
        byte[] inv = new byte[Colors];
        for (int c = 0; c < Colors; c++) inv[_map[c]] = (byte)c;
        return new ArcColorMap(inv);
    }

    /// <summary>Maps every colour of <paramref name="cells"/> in place.</summary>
    /// <param name="cells">Colours 0..9.</param>
    /// <exception cref="ArgumentException">A cell is not a colour.</exception>
    public void ApplyInPlace(Span<byte> cells)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            if (cells[i] >= Colors)
                throw new ArgumentException($"cell {i} holds {cells[i]}, not a colour 0..9", nameof(cells));
            cells[i] = _map[cells[i]];
        }
    }

    /// <summary>The ten-digit form used in view names.</summary>
    /// <returns>For example "0391274586".</returns>
    public override string ToString() => string.Create(Colors, _map, static (s, m) =>
    {
        for (int i = 0; i < Colors; i++) s[i] = (char)('0' + m[i]);
    });
}
