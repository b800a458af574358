using Hrm.Runtime.Backends;

namespace Hrm.Runtime.Tests.Backends;

/// <summary>
/// The record-then-replay bookkeeping behind <see cref="IHrmBackend.RunRecorded"/> (the CUDA backend's graphs), with a
/// fake recorder that counts: warm-up, recording, replay, invalidation by the memory epoch, abandoned and failed
/// recordings, errors of the ops themselves.
/// </summary>
public sealed class RecordedSequencesTests
{
    [Fact]
    public void First_call_runs_the_ops_second_records_and_replays_later_calls_replay()
    {
        var f = new Fake();
        Action ops = f.Ops;
        for (int i = 0; i < 5; i++) f.Sequences.Run(ops);
        Assert.Equal(1, f.Direct);    // warm-up
        Assert.Equal(1, f.Recorded);  // second call
        Assert.Equal(4, f.Replayed);  // second to fifth
        Assert.Equal(4, f.Sequences.Replays);
        Assert.Equal(1, f.Sequences.Count);
        Assert.Empty(f.Sequences.Fallbacks);
    }

    [Fact]
    public void Each_delegate_instance_is_its_own_sequence()
    {
        var f = new Fake();
        Action a = f.Ops, b = f.Ops;
        f.Sequences.Run(a);
        f.Sequences.Run(b);
        Assert.Equal(2, f.Direct);
        f.Sequences.Run(a);
        f.Sequences.Run(b);
        Assert.Equal(2, f.Recorded);
        Assert.Equal(2, f.Sequences.Count);
    }

    [Fact]
    public void A_new_memory_epoch_drops_the_recording_and_warms_up_again()
    {
        var f = new Fake();
        Action ops = f.Ops;
        f.Sequences.Run(ops);
        f.Sequences.Run(ops);
        FakeRecording first = f.Last!;
        f.Epoch++;
        f.Sequences.Run(ops);
        Assert.True(first.Disposed);
        Assert.Equal(2, f.Direct);
        Assert.Equal(0, f.Sequences.Count);
        f.Sequences.Run(ops);
        Assert.Equal(2, f.Recorded);
        Assert.Equal(2, f.Replayed);
        Assert.False(f.Last!.Disposed);
    }

    [Fact]
    public void An_abandoned_recording_runs_the_ops_and_is_retried_next_call()
    {
        var f = new Fake { AbandonNext = true };
        Action ops = f.Ops;
        f.Sequences.Run(ops);
        f.Sequences.Run(ops); // abandoned (a buffer had to grow): ops run directly
        Assert.Equal(2, f.Direct);
        Assert.Equal(0, f.Replayed);
        f.Sequences.Run(ops);
        Assert.Equal(1, f.Recorded);
        Assert.Equal(1, f.Replayed);
        Assert.Empty(f.Sequences.Fallbacks);
    }

    [Fact]
    public void A_recording_whose_epoch_moved_while_recording_is_not_kept()
    {
        var f = new Fake { BumpEpochWhileRecording = true };
        Action ops = f.Ops;
        f.Sequences.Run(ops);
        f.Sequences.Run(ops);
        Assert.True(f.Last!.Disposed);
        Assert.Equal(0, f.Replayed);
        Assert.Equal(2, f.Direct);
    }

    [Fact]
    public void A_failed_recording_leaves_the_sequence_running_op_by_op_with_the_reason()
    {
        var f = new Fake { FailRecording = "cuStreamSynchronize inside a capture" };
        Action ops = f.Ops;
        for (int i = 0; i < 4; i++) f.Sequences.Run(ops);
        Assert.Equal(4, f.Direct);
        Assert.Equal(1, f.RecordAttempts);
        Assert.Equal(0, f.Replayed);
        Assert.Equal(["cuStreamSynchronize inside a capture"], f.Sequences.Fallbacks);
    }

    [Fact]
    public void Errors_of_the_ops_themselves_propagate_and_recording_is_tried_again()
    {
        var f = new Fake();
        Action ops = f.Ops;
        f.Sequences.Run(ops);
        f.OpsThrow = true;
        Assert.Throws<ArgumentException>(() => f.Sequences.Run(ops));
        Assert.Empty(f.Sequences.Fallbacks);
        f.OpsThrow = false;
        f.Sequences.Run(ops);
        Assert.Equal(1, f.Recorded);
        Assert.Equal(1, f.Replayed);
    }

    [Fact]
    public void Clear_disposes_every_recording()
    {
        var f = new Fake();
        Action ops = f.Ops;
        f.Sequences.Run(ops);
        f.Sequences.Run(ops);
        FakeRecording r = f.Last!;
        f.Sequences.Clear();
        Assert.True(r.Disposed);
        Assert.Equal(0, f.Sequences.Count);
        f.Sequences.Run(ops);
        Assert.Equal(2, f.Direct); // warmed up again
    }

    private sealed class FakeRecording : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    /// <summary>Counts direct runs, recordings and replays; the ops only count while not recording.</summary>
    private sealed class Fake
    {
        private bool _recording;

        public Fake() => Sequences = new RecordedSequences<FakeRecording>(Record, _ => Replayed++, () => Epoch);

        public RecordedSequences<FakeRecording> Sequences { get; }

        public long Epoch { get; set; }

        public int Direct { get; private set; }

        public int Recorded { get; private set; }

        public int RecordAttempts { get; private set; }

        public int Replayed { get; private set; }

        public FakeRecording? Last { get; private set; }

        public bool AbandonNext { get; set; }

        public bool BumpEpochWhileRecording { get; set; }

        public string? FailRecording { get; set; }

        public bool OpsThrow { get; set; }

        public void Ops()
        {
            if (OpsThrow) throw new ArgumentException("bad shape");
            if (!_recording) Direct++;
        }

        private FakeRecording? Record(Action ops)
        {
            RecordAttempts++;
            if (FailRecording != null) throw new RecordingFailedException(FailRecording);
            if (AbandonNext)
            {
                AbandonNext = false;
                return null;
            }
            _recording = true;
            try
            {
                ops();
            }
            finally
            {
                _recording = false;
            }
            if (BumpEpochWhileRecording) Epoch++;
            Recorded++;
            return Last = new FakeRecording();
        }
    }
}
