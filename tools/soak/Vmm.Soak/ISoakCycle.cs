namespace Vmm.Soak;

/// <summary>One VM start/stop cycle of a soak run.</summary>
internal interface ISoakCycle
{
    /// <summary>What is cycled, for the report.</summary>
    string Name { get; }

    /// <summary>Starts a VM, exercises it and stops it; throws <see cref="SoakFailedException"/> when it misbehaved.</summary>
    void Run(int cycle);
}

/// <summary>A cycle that did not do what it should (a wrong outcome, not a leak).</summary>
internal sealed class SoakFailedException(string message) : Exception(message);
