namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    /// <summary>
    /// Copies the carry after the last segment to the host: z_H and z_L of every row, (B, T, C) each, where T
    /// includes the puzzle-embedding prefix (<see cref="Hrm.Runtime.Config.HrmConfig.TotalSeqLen"/>). Analysis only (e.g. the
    /// participation ratio of the states); nothing in the forward pass reads these copies.
    /// </summary>
    /// <param name="zH">Receives z_H, B·T·C values.</param>
    /// <param name="zL">Receives z_L, B·T·C values.</param>
    /// <exception cref="ArgumentException">A destination does not hold exactly B·T·C values.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Reserve"/> has not been called.</exception>
    public void ReadCarry(Span<float> zH, Span<float> zL)
    {
        Workspace ws = Ws;
        int t = Config.TotalSeqLen, c = Config.HiddenSize;
        long count = (long)ws.Batch * t * c;
        if (zH.Length != count)
            throw new ArgumentException($"z_H: expected B·T·C = {ws.Batch}·{t}·{c} = {count} values, got {zH.Length}", nameof(zH));
        if (zL.Length != count)
            throw new ArgumentException($"z_L: expected B·T·C = {ws.Batch}·{t}·{c} = {count} values, got {zL.Length}", nameof(zL));
        _b.Download(ws.ZH, zH);   // (B, T, C)
        _b.Download(ws.ZL, zL);   // (B, T, C)
    }
}
