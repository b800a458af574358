using Hrm.Runtime.Config;
using Hrm.Runtime.Loss;
using Hrm.Runtime.Memory;
using Hrm.Runtime.Numerics;
using static Hrm.Runtime.Memory.ParameterLayout;

namespace Hrm.Runtime.Model;

public sealed partial class HrmModel
{
    private readonly Dictionary<int, Action> _evalSegments = [];  // segment count → Evaluate's recorded sequence
    private Workspace? _evalSegmentsOf;
    private int[] _minSteps = [];   // (B) host staging of the exploration draws
    private int[] _noLabels = [];   // (B, L) zeros
    /// <summary>
    /// One ACT call (spec 1.10) on a host-side <paramref name="state"/>: the state's bookkeeping is loaded into the
    /// workspace carry (<see cref="LoadCarry"/>), the call runs there (<see cref="ActStep(ReadOnlySpan{int},
    /// ReadOnlySpan{int}, ReadOnlySpan{int}, bool, HrmRandom?, int)"/>) and the state is brought up to date: the
    /// rows' data by the same rule on the host (<see cref="ActMath.SelectRows"/>), steps, halted flags, the
    /// segment's Q logits and, when computed, the continue targets read back. Logits stay in the workspace
    /// (<see cref="ReadLogits"/>).
    /// </summary>
    public void ActStep(ActState state, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        ReadOnlySpan<int> labels, bool training, HrmRandom? rng = null, int maxSteps = 0)
    {
        LoadCarry(state); // HaltedMask = the rows that take new data at this call
        ActStep(tokens, puzzleIds, labels, training, rng, maxSteps);
        ReadBack(state, tokens, puzzleIds, labels, training, maxSteps);
    }

    /// <summary>
    /// A training ACT call on a host-side <paramref name="state"/> (as <see cref="ActStep(ActState, ReadOnlySpan{int},
    /// ReadOnlySpan{int}, ReadOnlySpan{int}, bool, HrmRandom?, int)"/> with training and halt_max_steps) whose
    /// exploration minimums (B: 0, or the step count in [2, halt_max_steps] a row may not halt before) the caller
    /// gives, e.g. another run's draws, to replay its halting. Empty when <see cref="ExploresWhenTraining"/> is false.
    /// </summary>
    public void ActStep(ActState state, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        ReadOnlySpan<int> labels, ReadOnlySpan<int> exploration)
    {
        CheckExploration(exploration); // before LoadCarry: a refused call changes nothing
        LoadCarry(state);
        ActStepOn(tokens, puzzleIds, labels, training: true, null, 0, exploration);
        ReadBack(state, tokens, puzzleIds, labels, training: true, maxSteps: 0);
    }

    /// <summary>Brings <paramref name="state"/> up to date after an ACT call (see the state overloads).</summary>
    private void ReadBack(ActState state, ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds,
        ReadOnlySpan<int> labels, bool training, int maxSteps)
    {
        Workspace ws = Ws;
        int batch = ws.Batch, l = Config.SeqLen, m = maxSteps > 0 ? maxSteps : Config.HaltMaxSteps;
        ActMath.SelectRows(state.Tokens, tokens, state.HaltedMask, batch, l);
        ActMath.SelectRows(state.Labels, labels.IsEmpty ? NoLabels(batch * l) : labels, state.HaltedMask, batch, l);
        ActMath.SelectRows(state.PuzzleIds, puzzleIds, state.HaltedMask, batch, 1);
        _b.DownloadInts(ws.Steps, state.Steps);
        _b.DownloadInts(ws.Halted, state.HaltedMask);
        for (int b = 0; b < batch; b++) state.Halted[b] = state.HaltedMask[b] != 0;
        _b.Download(ws.Q, state.Q);
        for (int b = 0; b < batch; b++)
        {
            state.QHalt[b] = state.Q[2 * b];
            state.QContinue[b] = state.Q[2 * b + 1];
        }
        if (HaltRule(training, m) == ActHaltRule.QHaltOverContinue) _b.Download(ws.Target, state.TargetQContinue);
    }

    /// <summary>
    /// One ACT call (spec 1.10) on the carry the workspace holds (z_H, z_L, halted flags, steps and each row's data;
    /// a reserved workspace starts with every row halted), with nothing read back: rows halted at the previous
    /// call take this batch's row of <paramref name="tokens"/> (B,L), <paramref name="puzzleIds"/> (B) and
    /// <paramref name="labels"/> (B,L, or empty: zeros) and are reset to H_init/L_init with zero steps; every row
    /// then runs one segment (recorded when training); steps are counted and halting decided on the device.
    /// Training: halt when q_halt &gt; q_continue or at max steps, exploration forces a random minimum (2..M) with
    /// probability halt_exploration_prob (drawn on the host from <paramref name="rng"/>, uploaded), and an extra
    /// no-grad segment from the new carry gives the continue targets (with no_ACT_continue: halt when q_halt &gt; 0,
    /// no extra segment). Evaluation: halt exactly at <paramref name="maxSteps"/> (default halt_max_steps). The whole
    /// new batch is validated (tokens, ids, labels) before anything is uploaded.
    /// </summary>
    public void ActStep(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, ReadOnlySpan<int> labels,
        bool training, HrmRandom? rng = null, int maxSteps = 0)
    {
        if (training && rng == null) throw new ArgumentNullException(nameof(rng), "training ACT needs a generator");
        ActStepOn(tokens, puzzleIds, labels, training, rng, maxSteps, default);
    }

    /// <summary>
    /// A training ACT call (as <see cref="ActStep(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool,
    /// HrmRandom?, int)"/> with training and halt_max_steps) whose exploration minimums (B) the caller drew
    /// (<see cref="DrawExploration(HrmRandom, Span{int})"/>): a micro-batch's rows of the draws made for the whole
    /// batch, so that the micro-batches of a step explore exactly as the step on the whole batch would. Empty when
    /// <see cref="ExploresWhenTraining"/> is false.
    /// </summary>
    public void ActStep(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, ReadOnlySpan<int> labels,
        ReadOnlySpan<int> exploration)
    {
        CheckExploration(exploration);
        ActStepOn(tokens, puzzleIds, labels, training: true, null, 0, exploration);
    }

    /// <summary>Exploration minimums given by a caller: one per row when the training call explores, each 0 or in
    /// [2, halt_max_steps] (what the draws can give).</summary>
    private void CheckExploration(ReadOnlySpan<int> exploration)
    {
        int expected = ExploresWhenTraining ? Ws.Batch : 0, m = Config.HaltMaxSteps;
        if (exploration.Length != expected)
            throw new ArgumentException($"exploration: expected {expected} minimums, got {exploration.Length}",
                nameof(exploration));
        for (int b = 0; b < exploration.Length; b++)
        {
            if (exploration[b] != 0 && (exploration[b] < 2 || exploration[b] > m))
            {
                throw new ArgumentOutOfRangeException(nameof(exploration),
                    $"exploration: row {b} has minimum {exploration[b]} (expected 0 or 2..{m})");
            }
        }
    }

    /// <summary>True when a training ACT call draws exploration minimums (the training halting rules:
    /// halt_max_steps &gt; 1).</summary>
    public bool ExploresWhenTraining => HaltRule(training: true, Config.HaltMaxSteps) != ActHaltRule.MaxSteps;

    /// <summary>
    /// The exploration minimums a training ACT call on <paramref name="dst"/>.Length rows draws from
    /// <paramref name="rng"/> (the reference's order: B uniform doubles, then B integers; see
    /// <see cref="ActStep(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, bool, HrmRandom?, int)"/>).
    /// </summary>
    public void DrawExploration(HrmRandom rng, Span<int> dst)
    {
        ArgumentNullException.ThrowIfNull(rng);
        DrawExploration(rng, dst, Config.HaltMaxSteps);
    }

    /// <summary>The draws for a training call with <paramref name="m"/> maximum steps.</summary>
    private void DrawExploration(HrmRandom rng, Span<int> dst, int m)
    {
        double eps = Config.HaltExplorationProb;
        for (int b = 0; b < dst.Length; b++) dst[b] = rng.NextDouble() < eps ? 1 : 0;
        for (int b = 0; b < dst.Length; b++)
        {
            int minSteps = rng.NextInt(2, m + 1);
            dst[b] = dst[b] != 0 ? minSteps : 0;
        }
    }

    /// <summary>The ACT call; <paramref name="drawn"/> not empty: the exploration minimums (training only).</summary>
    private void ActStepOn(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, ReadOnlySpan<int> labels,
        bool training, HrmRandom? rng, int maxSteps, ReadOnlySpan<int> drawn)
    {
        Workspace ws = Ws;
        int batch = ws.Batch, l = Config.SeqLen, m = maxSteps > 0 ? maxSteps : Config.HaltMaxSteps;
        if (training && !ws.Training) throw new InvalidOperationException("training ACT needs Reserve(batch, training: true)");
        if (tokens.Length != batch * l)
            throw new ArgumentException($"inputs: expected {batch}·{l} = {batch * l} tokens, got {tokens.Length}");
        if (puzzleIds.Length != batch)
            throw new ArgumentException($"puzzle identifiers: expected {batch}, got {puzzleIds.Length}");
        if (!labels.IsEmpty && labels.Length != batch * l)
            throw new ArgumentException($"labels: expected {batch * l} values, got {labels.Length}");
        CheckInputValues(tokens, puzzleIds);
        if (!labels.IsEmpty) StablemaxCeMath.CheckLabels(labels, Config.VocabSize);
        _b.UploadInts(tokens, ws.NextTokens);
        _b.UploadInts(puzzleIds, ws.NextIds);
        _b.UploadInts(labels.IsEmpty ? NoLabels(batch * l) : labels, ws.NextLabels);
        _b.SelectRows(ws.Tokens, ws.NextTokens, ws.Halted, batch, l);
        _b.SelectRows(ws.Labels, ws.NextLabels, ws.Halted, batch, l);
        _b.SelectRows(ws.PuzzleIds, ws.NextIds, ws.Halted, batch, 1);
        int t = Config.TotalSeqLen, c = Config.HiddenSize;
        _b.ResetCarry(ws.ZH, Param(Names.HInit), ws.Halted, batch, t, c);
        _b.ResetCarry(ws.ZL, Param(Names.LInit), ws.Halted, batch, t, c);
        if (Config.PuzzleEmbNdim > 0)
            _b.GatherRows(ws.PuzzleRows, Param(Names.PuzzleEmb), ws.PuzzleIds, batch, Config.PuzzleEmbNdim);
        ActHaltRule rule = HaltRule(training, m);
        if (rule != ActHaltRule.MaxSteps) _b.UploadInts(drawn.IsEmpty ? DrawExploration(rng!, batch, m) : drawn, ws.MinSteps);
        // Training runs the weights through up to two segments before anything writes them: keep their packed forms.
        if (training) _b.BeginWeightReuse();
        try
        {
            Segment(ws.ZH, ws.ZL, record: training, ws.Logits, ws.Q);
            _b.ActHalt(ws.Halted, ws.Steps, ws.Q, rule == ActHaltRule.MaxSteps ? Buf.Empty : ws.MinSteps, batch, m, rule);
            if (rule == ActHaltRule.QHaltOverContinue)
            {
                // Bootstrap target: one more no-grad segment from the new (detached) carry on the same data.
                _b.Copy(ws.ZH2, ws.ZH);
                _b.Copy(ws.ZL2, ws.ZL);
                TargetSegment(ws.ZH2, ws.ZL2, ws.QNext);
                _b.ActTarget(ws.Target, ws.QNext, ws.Steps, batch, m);
            }
        }
        finally
        {
            if (training) _b.EndWeightReuse();
        }
    }

    /// <summary>
    /// Copies a host <paramref name="state"/>'s bookkeeping (steps, halted flags, inputs, labels, puzzle ids) into
    /// the workspace carry; z_H and z_L are not part of it (they live in the workspace). The values are checked first
    /// (tokens and ids in range, labels −100 or tokens, steps ≥ 0): a state read from a file cannot feed the model
    /// garbage.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range (the message names it).</exception>
    public void LoadCarry(ActState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Workspace ws = CarryWorkspace(state);
        CheckInputValues(state.Tokens, state.PuzzleIds);
        StablemaxCeMath.CheckLabels(state.Labels, Config.VocabSize);
        for (int b = 0; b < state.Batch; b++)
        {
            if (state.Steps[b] < 0)
                throw new ArgumentOutOfRangeException(nameof(state), $"steps: row {b} has {state.Steps[b]} steps (expected >= 0)");
        }
        for (int b = 0; b < state.Batch; b++) state.HaltedMask[b] = state.Halted[b] ? 1 : 0;
        _b.UploadInts(state.HaltedMask, ws.Halted);
        _b.UploadInts(state.Steps, ws.Steps);
        _b.UploadInts(state.Tokens, ws.Tokens);
        _b.UploadInts(state.Labels, ws.Labels);
        _b.UploadInts(state.PuzzleIds, ws.PuzzleIds);
    }

    /// <summary>Copies the workspace carry's bookkeeping into <paramref name="state"/> (see <see cref="LoadCarry"/>).</summary>
    public void SaveCarry(ActState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Workspace ws = CarryWorkspace(state);
        _b.DownloadInts(ws.Halted, state.HaltedMask);
        _b.DownloadInts(ws.Steps, state.Steps);
        _b.DownloadInts(ws.Tokens, state.Tokens);
        _b.DownloadInts(ws.Labels, state.Labels);
        _b.DownloadInts(ws.PuzzleIds, state.PuzzleIds);
        for (int b = 0; b < state.Batch; b++) state.Halted[b] = state.HaltedMask[b] != 0;
    }

    /// <summary>Marks every row of the workspace carry halted with zero steps (the reference's initial carry).</summary>
    public void ResetActCarry()
    {
        Workspace ws = Ws;
        var fresh = new ActState(ws.Batch, Config.SeqLen);
        LoadCarry(fresh);
    }

    private Workspace CarryWorkspace(ActState state)
    {
        Workspace ws = Ws;
        if (state.Batch != ws.Batch || state.SeqLen != Config.SeqLen)
            throw new ArgumentException($"ACT state is for B={state.Batch}, L={state.SeqLen}; the model has B={ws.Batch}, L={Config.SeqLen}");
        return ws;
    }

    private ActHaltRule HaltRule(bool training, int m) =>
        !training || m <= 1 ? ActHaltRule.MaxSteps
        : Config.NoActContinue ? ActHaltRule.QHaltPositive : ActHaltRule.QHaltOverContinue;

    /// <summary>The exploration minimum of every row (B) into host staging (<see cref="DrawExploration(HrmRandom, Span{int})"/>).</summary>
    private int[] DrawExploration(HrmRandom rng, int batch, int m)
    {
        if (_minSteps.Length != batch) _minSteps = new int[batch];
        DrawExploration(rng, _minSteps, m);
        return _minSteps;
    }

    /// <summary>Zero labels (n) for calls without labels.</summary>
    private int[] NoLabels(int n)
    {
        if (_noLabels.Length != n) _noLabels = new int[n];
        return _noLabels;
    }

    /// <summary>Copies the last segment's logits (B, L, V) to the host.</summary>
    public void ReadLogits(Span<float> dst) => _b.Download(Ws.Logits, dst);

    /// <summary>
    /// Evaluation as the reference runs it: a fresh carry, exactly <paramref name="maxSteps"/> segments
    /// (default halt_max_steps), outputs of the last. Returns the state holding the final Q logits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSteps"/> is negative or past
    /// <see cref="HrmConfig.MaxDepth"/> (the segments are recorded as one sequence, a CUDA graph on a GPU,
    /// which grows with them).</exception>
    public ActState Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> puzzleIds, int maxSteps = 0)
    {
        if ((uint)maxSteps > HrmConfig.MaxDepth)
        {
            throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps,
                $"max steps: expected 1..{HrmConfig.MaxDepth} segments, or 0 for halt_max_steps");
        }
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
