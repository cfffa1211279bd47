namespace Paperclip.Backend.Tests.Infrastructure;

/// <summary>
/// The tests that run clusters of real processes: one at a time and after the other tests, since
/// each cluster (two API nodes, game hosts, Redis) alone keeps a 2-core machine busy.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcesses
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Cluster processes";
}
