namespace Hrm.Train.Data;

/// <summary>One example of a task of your own (<see cref="TextPairsCsv"/>): an input text, the output the model should
/// write, and the group it belongs to.</summary>
/// <param name="Input">The input symbols.</param>
/// <param name="Output">The output symbols.</param>
/// <param name="Group">Its group's name (consecutive rows of one name are a group: a puzzle and the variants you made
/// of it), or "" for a group of its own.</param>
/// <param name="Line">Its line in the file (1-based), for error messages.</param>
public sealed record TextPair(string Input, string Output, string Group, int Line);
