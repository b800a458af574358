using System.Diagnostics;
using Hrm.Runtime.Model;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The host side of the solver's batch: which job row each of the first <see cref="Count"/> model rows works on,
/// its inputs, segments run, current prediction and when it started. Active rows are always the first
/// <see cref="Count"/>: <see cref="Remove"/> moves the last active row (its carry on the device and its state here)
/// into the freed place, so the model runs on a dense prefix. Engine thread only; nothing allocates after
/// construction.
/// </summary>
internal sealed class BatchSlots
{
    private readonly HrmModel _model;
    private readonly int _l;
    private readonly SolveJob?[] _jobs;       // (B)
    private readonly int[] _jobRows;          // (B) row within the job
    private readonly long[] _startedAt;       // (B) Stopwatch timestamp of admission

    /// <summary>Slots for <paramref name="model"/>'s reserved batch.</summary>
    public BatchSlots(HrmModel model)
    {
        _model = model;
        int b = model.Batch;
        _l = model.Config.SeqLen;
        _jobs = new SolveJob?[b];
        _jobRows = new int[b];
        _startedAt = new long[b];
        Steps = new int[b];
        StableSince = new int[b];
        Fresh = new int[b];
        Tokens = new int[b * _l];
        PuzzleIds = new int[b];
        Predicted = new int[b * _l];
    }

    /// <summary>Slots in all (B).</summary>
    public int Capacity => _jobs.Length;

    /// <summary>Active rows: slots 0..Count-1.</summary>
    public int Count { get; private set; }

    /// <summary>True when a row was admitted or moved since the inputs were last staged.</summary>
    public bool InputsChanged { get; set; }

    /// <summary>True when some active row still needs the initial carry.</summary>
    public bool AnyFresh { get; set; }

    /// <summary>(B) segments each row has run.</summary>
    public int[] Steps { get; }

    /// <summary>(B) segment since which each row's prediction is unchanged.</summary>
    public int[] StableSince { get; }

    /// <summary>(B) 1 for rows admitted since the last reset (they take H_init/L_init before their first segment).</summary>
    public int[] Fresh { get; }

    /// <summary>(B, L) input tokens of each row.</summary>
    public int[] Tokens { get; }

    /// <summary>(B) puzzle identifiers.</summary>
    public int[] PuzzleIds { get; }

    /// <summary>(B, L) argmax tokens of each row's last segment.</summary>
    public int[] Predicted { get; }

    /// <summary>The job of active row <paramref name="slot"/>.</summary>
    public SolveJob Job(int slot) => _jobs[slot]!;

    /// <summary>Puts the job's next row into slot <see cref="Count"/>.</summary>
    public void Admit(SolveJob job)
    {
        int s = Count++, row = job.NextRow++;
        _jobs[s] = job;
        _jobRows[s] = row;
        _startedAt[s] = Stopwatch.GetTimestamp();
        Steps[s] = 0;
        StableSince[s] = 1;
        Fresh[s] = 1;
        job.Tokens.AsSpan(row * _l, _l).CopyTo(Tokens.AsSpan(s * _l, _l));
        PuzzleIds[s] = job.PuzzleIds[row];
        AnyFresh = true;
        InputsChanged = true;
    }

    /// <summary>Completes the job row of slot <paramref name="slot"/> with its current prediction.</summary>
    public void Complete(int slot, float qHalt, float qContinue)
    {
        var prediction = new TokenPrediction(Predicted.AsSpan(slot * _l, _l).ToArray(), qHalt, qContinue,
            Steps[slot], StableSince[slot], Stopwatch.GetElapsedTime(_startedAt[slot]));
        _jobs[slot]!.Complete(_jobRows[slot], prediction);
    }

    /// <summary>
    /// Frees slot <paramref name="slot"/>: the last active row (carry z_H/z_L on the device, state here) moves into
    /// it. Callers removing several rows go from the highest slot down, so the row moved in is one that stays.
    /// </summary>
    public void Remove(int slot)
    {
        int last = --Count;
        if (slot != last)
        {
            _model.MoveRow(last, slot);
            _jobs[slot] = _jobs[last];
            _jobRows[slot] = _jobRows[last];
            _startedAt[slot] = _startedAt[last];
            Steps[slot] = Steps[last];
            StableSince[slot] = StableSince[last];
            Fresh[slot] = Fresh[last];
            Tokens.AsSpan(last * _l, _l).CopyTo(Tokens.AsSpan(slot * _l, _l));
            Predicted.AsSpan(last * _l, _l).CopyTo(Predicted.AsSpan(slot * _l, _l));
            PuzzleIds[slot] = PuzzleIds[last];
        }
        _jobs[last] = null;
        InputsChanged = true;
    }

    /// <summary>Fails every active row's job and empties the batch (after an error or at disposal).</summary>
    public void FailAll(Exception error)
    {
        for (int s = 0; s < Count; s++) _jobs[s]!.Fail(error);
        Array.Clear(_jobs);
        Count = 0;
    }
}
