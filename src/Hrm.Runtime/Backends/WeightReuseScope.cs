namespace Hrm.Runtime.Backends;

/// <summary>The nesting count behind <see cref="IHrmBackend.BeginWeightReuse"/> / <see cref="IHrmBackend.EndWeightReuse"/>.</summary>
internal struct WeightReuseScope
{
    private int _depth;

    /// <summary>Whether a scope is open.</summary>
    public readonly bool Open => _depth > 0;

    public void Begin() => _depth++;

    /// <summary>Closes one scope; true when that was the outermost.</summary>
    /// <exception cref="InvalidOperationException">No scope is open.</exception>
    public bool End()
    {
        if (_depth == 0) throw new InvalidOperationException("EndWeightReuse without a matching BeginWeightReuse");
        return --_depth == 0;
    }
}
