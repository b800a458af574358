namespace Hrm.Runtime.Backends;

/// <summary>
/// The largest shapes a reserved model runs, for <see cref="IHrmBackend.ReserveScratch"/>: B rows of T positions
/// (L of them tokens), hidden C = NH·HS, SwiGLU width I (<paramref name="Inter"/>), vocabulary V, and whether the
/// 1-step backward runs.
/// </summary>
public readonly record struct ScratchShapes(int Batch, int T, int L, int C, int NH, int HS, int Inter, int V, bool Training);
