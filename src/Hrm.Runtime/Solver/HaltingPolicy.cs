using Hrm.Runtime.Config;

namespace Hrm.Runtime.Solver;

/// <summary>
/// The one place where inference decides that a row halts after a segment. <see cref="HaltingMode.Fixed"/>: at
/// exactly <see cref="MaxSteps"/> segments (the reference's evaluation). <see cref="HaltingMode.Adaptive"/>: at
/// <see cref="MaxSteps"/>, or earlier once <see cref="MinSteps"/> segments have run and
/// q_halt − q_continue &gt; <see cref="Margin"/>; with margin 0 that is the reference's training rule
/// q_halt &gt; q_continue. A model trained with <c>no_ACT_continue</c> (<see cref="HrmConfig.NoActContinue"/>) has an
/// untrained continue logit, so its policy compares q_halt alone with the margin (q_halt &gt; 0: the rule it was trained
/// with). A margin that can never be met (+∞) makes adaptive halting identical to fixed.
/// </summary>
public sealed class HaltingPolicy
{
    /// <summary>A policy; see the class summary.</summary>
    /// <param name="mode">Fixed or adaptive.</param>
    /// <param name="maxSteps">Segments at which every row halts (≥ 1).</param>
    /// <param name="minSteps">Adaptive: segments before the Q head is listened to (1..maxSteps).</param>
    /// <param name="margin">Adaptive: how far q_halt must exceed q_continue (not NaN; +∞ never halts early).</param>
    /// <param name="haltLogitOnly">Compare q_halt alone with the margin (models trained with no_ACT_continue).</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is outside its range.</exception>
    public HaltingPolicy(HaltingMode mode, int maxSteps, int minSteps = 1, float margin = 0f, bool haltLogitOnly = false)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown halting mode");
        if (maxSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, "max steps: expected at least 1 segment");
        if (minSteps < 1 || minSteps > maxSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(minSteps), minSteps,
                $"min steps: expected 1..{maxSteps} (the max steps)");
        }
        if (float.IsNaN(margin)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "halt margin: NaN");
        Mode = mode;
        MaxSteps = maxSteps;
        MinSteps = minSteps;
        Margin = margin;
        HaltLogitOnly = haltLogitOnly;
    }

    /// <summary>Fixed or adaptive.</summary>
    public HaltingMode Mode { get; }

    /// <summary>Segments at which every row halts.</summary>
    public int MaxSteps { get; }

    /// <summary>Adaptive: segments every row runs before its Q head is listened to.</summary>
    public int MinSteps { get; }

    /// <summary>Adaptive: halt when q_halt − q_continue (q_halt alone with <see cref="HaltLogitOnly"/>) exceeds this.</summary>
    public float Margin { get; }

    /// <summary>Whether q_continue is ignored (the model was trained with no_ACT_continue).</summary>
    public bool HaltLogitOnly { get; }

    /// <summary>
    /// Whether a row halts after a segment that left it with these Q logits and <paramref name="steps"/> segments
    /// run (counting that one). NaN logits never halt early.
    /// </summary>
    public bool ShouldHalt(float qHalt, float qContinue, int steps)
    {
        if (steps >= MaxSteps) return true;
        if (Mode == HaltingMode.Fixed || steps < MinSteps) return false;
        return (HaltLogitOnly ? qHalt : qHalt - qContinue) > Margin;
    }

    /// <summary>The policy a solver over <paramref name="config"/> runs with <paramref name="options"/>.</summary>
    internal static HaltingPolicy For(HrmConfig config, SolverOptions options)
    {
        int max = options.MaxSteps == 0 ? config.HaltMaxSteps : options.MaxSteps;
        return new HaltingPolicy(options.Halting, max, options.MinSteps, options.HaltMargin, config.NoActContinue);
    }
}
