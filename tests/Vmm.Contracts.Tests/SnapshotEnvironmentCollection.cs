namespace Vmm.Contracts.Tests;

/// <summary>
/// Tests that read or set the UPDATE_SNAPSHOTS environment variable run one at a time, so that a test setting it
/// never makes another one accept its output.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SnapshotEnvironmentCollection
{
    public const string Name = "Snapshot environment";
}
