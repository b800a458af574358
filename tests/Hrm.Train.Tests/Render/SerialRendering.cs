namespace Hrm.Train.Tests.Render;

/// <summary>Test classes that draw with ScottPlot share this collection and run one at a time: its font cache is process-wide.</summary>
[CollectionDefinition(Name)]
public sealed class SerialRendering
{
    public const string Name = "Render";
}
