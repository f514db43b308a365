namespace Vmm.VhostUser.Tests;

/// <summary>Tests that count process-wide descriptors and mappings run alone, so other tests do not disturb the count.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceCountingCollection
{
    public const string Name = "Resource counting";

    /// <summary>
    /// Slack for descriptors the runtime opens lazily on its own (thread pool, epoll); a leak of even one per round
    /// over <see cref="Rounds"/> rounds exceeds it.
    /// </summary>
    public const int Slack = 3;

    public const int Rounds = 10;
}
