namespace Hrm.Runtime.Arc;

/// <summary>
/// One augmented view of an ARC task: every grid becomes <c>dihedral(Tid, Map[grid])</c>. Its puzzle name is
/// the task id for the original and <c>&lt;task&gt;_t&lt;tid&gt;_&lt;ten digits of the map&gt;</c> otherwise
/// (spec 5.4), which is all evaluation needs to undo it.
/// </summary>
/// <param name="Tid">Dihedral transform id.</param>
/// <param name="Map">Colour permutation (0 fixed).</param>
public sealed record ArcView(int Tid, ArcColorMap Map)
{
    /// <summary>The un-augmented view.</summary>
    public static ArcView Original { get; } = new(0, ArcColorMap.Identity);

    /// <summary>The puzzle name of this view of <paramref name="taskId"/>.</summary>
    /// <param name="taskId">The task id (no '_').</param>
    /// <returns>The name written to identifiers.json.</returns>
    public string Name(string taskId) =>
        ReferenceEquals(this, Original) ? taskId : $"{taskId}_t{Tid}_{Map}";

    /// <summary>Splits a puzzle name into its task id and view; null when the name is malformed.</summary>
    /// <param name="name">"task" or "task_t&lt;k&gt;_&lt;10 digits&gt;".</param>
    /// <returns>The task id and view, or null.</returns>
    public static (string Task, ArcView View)? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string[] parts = name.Split('_');
        if (parts[0].Length == 0) return null;
        if (parts.Length == 1) return (name, Original);
        if (parts.Length != 3 || parts[1].Length != 2 || parts[1][0] != 't') return null;
        int tid = parts[1][1] - '0';
        ArcColorMap? map = ArcColorMap.TryParse(parts[2]);
        if ((uint)tid >= Dihedral.Count || map is null) return null;
        return (parts[0], new ArcView(tid, map));
    }

    /// <summary>Applies the view to a grid.</summary>
    /// <param name="grid">An original grid.</param>
    /// <returns>The augmented grid.</returns>
    public ArcGrid Apply(ArcGrid grid) => ReferenceEquals(this, Original) ? grid : grid.Transform(Tid, Map);

    /// <summary>Undoes the view on a grid (inverse dihedral, then inverse colour map).</summary>
    /// <param name="grid">An augmented grid.</param>
    /// <returns>The grid in the original frame.</returns>
    public ArcGrid Undo(ArcGrid grid) => ReferenceEquals(this, Original) ? grid : grid.Untransform(Tid, Map);

    /// <summary>
    /// A prediction of this view in the original frame: the reference's crop (<see cref="ArcEncoding.Crop"/>), then
    /// <see cref="Undo"/>.
    /// </summary>
    /// <param name="tokens">900 predicted tokens of a row of this view.</param>
    /// <returns>The grid (0 x 0 when the prediction holds no grid at the top-left corner).</returns>
    /// <exception cref="ArgumentException">Not 900 tokens.</exception>
    public ArcGrid Decode(ReadOnlySpan<int> tokens) => Undo(ArcEncoding.Crop(tokens));
}
