namespace Hrm.Runtime.Threading;

/// <summary>A unit of parallel work: <see cref="Execute"/> runs task <c>index</c> of a job's task count.</summary>
public interface IParallelJob
{
    /// <summary>Runs one task. Tasks of a job must write disjoint outputs.</summary>
    void Execute(int index);
}
