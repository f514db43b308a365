using Vmm.Contracts.Memory;

namespace Vmm.Contracts.Gpu;

/// <summary>What the virtio-gpu device gives a context.</summary>
public interface IGpuContextHost
{
    /// <summary>Guest memory.</summary>
    IGuestMemory Memory { get; }

    /// <summary>Signals a fence the context was given; safe from any thread.</summary>
    void CompleteFence(uint ringIndex, ulong fenceId);
}
