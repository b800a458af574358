namespace Hrm.Runtime.Arc;

/// <summary>One demonstration or test pair of an ARC task.</summary>
/// <param name="Input">The input grid.</param>
/// <param name="Output">The output grid.</param>
public sealed record ArcPair(ArcGrid Input, ArcGrid Output);
