using Hrm.Runtime.Numerics;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    private readonly Dictionary<int, Action> _evalSegments = [];  // segment count → Evaluate's recorded sequence
    private Workspace? _evalSegmentsOf;
    /// <summary>
    /// One ACT call (spec 1.10): rows halted at the previous call are reset to H_init/L_init with zero steps and
    /// take the new batch's data; every row then runs one segment (recorded when training); steps are counted
    /// and halting decided. Training: halt when q_halt &gt; q_continue or at max steps, exploration forces a
    /// random minimum (2..M) with probability halt_exploration_prob, and an extra no-grad segment from the new
    /// carry gives the continue target (with no_ACT_continue: halt when q_halt &gt; 0, no extra segment). Evaluation:
    /// halt exactly at <paramref name="maxSteps"/> (default halt_max_steps). Logits stay in the workspace (<see cref="ReadLogits"/>).
    /// </summary>
    public void ActStep(ActState state, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        ReadOnlySpan<int> labels, bool training, HrmRandom? rng = null, int maxSteps = 0)
    {
        Workspace ws = Ws;
        int batch = ws.Batch, l = Config.SeqLen, m = maxSteps > 0 ? maxSteps : Config.HaltMaxSteps;
        if (state.Batch != batch || state.SeqLen != l)
            throw new ArgumentException($"ACT state is for B={state.Batch}, L={state.SeqLen}; the model has B={batch}, L={l}");
        if (training && rng == null) throw new ArgumentNullException(nameof(rng), "training ACT needs a generator");
        if (!labels.IsEmpty && labels.Length != batch * l)
            throw new ArgumentException($"labels: expected {batch * l} values, got {labels.Length}");
        for (int b = 0; b < batch; b++)
        {
            state.HaltedMask[b] = state.Halted[b] ? 1 : 0;
            if (!state.Halted[b]) continue;
            state.Steps[b] = 0;
            tokens.Slice(b * l, l).CopyTo(state.Tokens.AsSpan(b * l, l));
            if (labels.IsEmpty) Array.Clear(state.Labels, b * l, l);
            else labels.Slice(b * l, l).CopyTo(state.Labels.AsSpan(b * l, l));
            state.PuzzleIds[b] = puzzleIds[b];
        }
        _b.UploadInts(state.HaltedMask, ws.Halted);
        int t = Config.TotalSeqLen, c = Config.HiddenSize;
        _b.ResetCarry(ws.ZH, Param(Names.HInit), ws.Halted, batch, t, c);
        _b.ResetCarry(ws.ZL, Param(Names.LInit), ws.Halted, batch, t, c);
        SetInputs(state.Tokens, state.PuzzleIds);
        // Training runs the weights through up to two segments before anything writes them: keep their packed forms.
        if (training) _b.BeginWeightReuse();
        try
        {
            RunActSegments(state, training, rng, m);
        }
        finally
        {
            if (training) _b.EndWeightReuse();
        }
    }

    /// <summary>The segment of an ACT call, its halting bookkeeping and, when training, the target segment.</summary>
    private void RunActSegments(ActState state, bool training, HrmRandom? rng, int m)
    {
        Workspace ws = Ws;
        int batch = ws.Batch;
        Segment(ws.ZH, ws.ZL, record: training, ws.Logits, ws.Q);
        _b.Download(ws.Q, state.Q);
        for (int b = 0; b < batch; b++)
        {
            state.QHalt[b] = state.Q[2 * b];
            state.QContinue[b] = state.Q[2 * b + 1];
            state.Steps[b]++;
            state.Halted[b] = state.Steps[b] >= m;
        }
        if (!training || m <= 1) return;
        DecideTrainingHalt(state, rng!, m);
        if (Config.NoActContinue) return; // halting reads q_halt alone: no continue target to compute
        // Bootstrap target: one more no-grad segment from the new (detached) carry on the same data.
        _b.Copy(ws.ZH2, ws.ZH);
        _b.Copy(ws.ZL2, ws.ZL);
        TargetSegment(ws.ZH2, ws.ZL2, ws.QNext);
        _b.Download(ws.QNext, state.Q);
        for (int b = 0; b < batch; b++)
        {
            float nh = state.Q[2 * b], nc = state.Q[2 * b + 1];
            float target = state.Steps[b] >= m ? nh : MathF.Max(nh, nc);
            state.TargetQContinue[b] = 1f / (1f + MathF.Exp(-target));
        }
    }

    private void DecideTrainingHalt(ActState state, HrmRandom rng, int m)
    {
        int batch = state.Batch;
        double eps = Config.HaltExplorationProb;
        Span<bool> explore = stackalloc bool[batch];
        for (int b = 0; b < batch; b++) explore[b] = rng.NextDouble() < eps;
        for (int b = 0; b < batch; b++)
        {
            int minSteps = rng.NextInt(2, m + 1);
            if (!explore[b]) minSteps = 0;
            bool says = Config.NoActContinue ? state.QHalt[b] > 0 : state.QHalt[b] > state.QContinue[b];
            bool halted = state.Halted[b] || says;
            state.Halted[b] = halted && state.Steps[b] >= minSteps;
        }
    }

    /// <summary>Copies the last segment's logits (B, L, V) to the host.</summary>
    public void ReadLogits(Span<float> dst) => _b.Download(Ws.Logits, dst);

    /// <summary>
    /// Evaluation as the reference runs it: a fresh carry, exactly <paramref name="maxSteps"/> segments
    /// (default halt_max_steps), outputs of the last. Returns the state holding the final Q logits.
    /// </summary>
    public ActState Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, int maxSteps = 0)
    {
        var state = new ActState(Ws.Batch, Config.SeqLen);
        int m = maxSteps > 0 ? maxSteps : Config.HaltMaxSteps;
        _b.BeginWeightReuse(); // no parameter changes between the segments
        try
        {
            // The first ACT call resets every row and stages the inputs. No row halts before step m, so the ACT
            // calls after it would reset nothing and stage the same inputs again: they are m - 1 plain segments,
            // run as one recorded sequence (a CUDA graph on the GPU), with only the last Q logits read back.
            ActStep(state, tokens, puzzleIds, default, training: false, maxSteps: m);
            if (m > 1)
            {
                Workspace ws = Ws;
                _b.RunRecorded(EvalSegments(m - 1));
                _b.Download(ws.Q, state.Q);
                for (int b = 0; b < ws.Batch; b++)
                {
                    state.QHalt[b] = state.Q[2 * b];
                    state.QContinue[b] = state.Q[2 * b + 1];
                    state.Steps[b] += m - 1;
                    state.Halted[b] = true;
                }
            }
        }
        finally
        {
            _b.EndWeightReuse();
        }
        return state;
    }

    /// <summary><paramref name="count"/> no-grad segments on the workspace, as one delegate kept per count (the
    /// recorded sequence's key).</summary>
    private Action EvalSegments(int count)
    {
        Workspace ws = Ws;
        if (!ReferenceEquals(_evalSegmentsOf, ws)) _evalSegments.Clear();
        _evalSegmentsOf = ws;
        if (!_evalSegments.TryGetValue(count, out Action? ops))
        {
            ops = () =>
            {
                for (int s = 0; s < count; s++) Segment(ws.ZH, ws.ZL, record: false, ws.Logits, ws.Q);
            };
            _evalSegments.Add(count, ops);
        }
        return ops;
    }
}
