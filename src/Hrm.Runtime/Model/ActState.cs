namespace Hrm.Runtime.Model;

/// <summary>
/// Host-side ACT bookkeeping of a batch (the reference's carry minus z_H/z_L, which live in the model's
/// workspace): steps, halted flags, the data each row is working on, and the last segment's Q logits.
/// A fresh state has every row halted, so the first step resets all rows.
/// </summary>
public sealed class ActState
{
    /// <summary>A fresh state for <paramref name="batch"/> rows of <paramref name="seqLen"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, or batch x seqLen past an array's length.
    /// </exception>
    public ActState(int batch, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(seqLen);
        if ((long)batch * Math.Max(seqLen, 2) > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(batch),
                $"{batch} rows x {seqLen} tokens is more than an array holds ({Array.MaxLength:N0})");
        }
        Batch = batch;
        SeqLen = seqLen;
        Steps = new int[batch];
        Halted = new bool[batch];
        Tokens = new int[batch * seqLen];
        Labels = new int[batch * seqLen];
        PuzzleIds = new int[batch];
        QHalt = new float[batch];
        QContinue = new float[batch];
        TargetQContinue = new float[batch];
        HaltedMask = new int[batch];
        Q = new float[2 * batch];
        Reset();
    }

    /// <summary>B.</summary>
    public int Batch { get; }

    /// <summary>L.</summary>
    public int SeqLen { get; }

    /// <summary>Segments each row has run on its current data (B).</summary>
    public int[] Steps { get; }

    /// <summary>Rows that halted at the last step and take new data at the next (B).</summary>
    public bool[] Halted { get; }

    /// <summary>The inputs each row works on (B, L).</summary>
    public int[] Tokens { get; }

    /// <summary>The labels of each row's data (B, L); zeros when none were given.</summary>
    public int[] Labels { get; }

    /// <summary>Puzzle identifiers of each row's data (B).</summary>
    public int[] PuzzleIds { get; }

    /// <summary>Halt logits of the last segment (B).</summary>
    public float[] QHalt { get; }

    /// <summary>Continue logits of the last segment (B).</summary>
    public float[] QContinue { get; }

    /// <summary>Training only: sigmoid bootstrap target for the continue logit (B).</summary>
    public float[] TargetQContinue { get; }

    internal int[] HaltedMask { get; }   // (B) staging for the device reset mask

    internal float[] Q { get; }          // (B, 2) staging for Q downloads

    /// <summary>Marks every row halted with zero steps (the reference's initial carry).</summary>
    public void Reset()
    {
        Array.Fill(Halted, true);
        Array.Clear(Steps);
    }
}
