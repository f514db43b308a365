using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;

namespace Vmm.Testing.Virtio;

/// <summary>
/// An activation with nothing in it: no queues, no shared-memory regions, no guest memory. For tests of what a device
/// or worker does around activation (a DAX or host-visible window the platform could not give, a worker's threading).
/// </summary>
public sealed class EmptyDeviceContext : IVirtioDeviceContext
{
    /// <summary>VIRTIO_F_VERSION_1 only.</summary>
    public ulong NegotiatedFeatures => VirtioFeatures.Version1;

    /// <summary>There is none: reading it throws.</summary>
    public IGuestMemory Memory => throw new NotSupportedException("An empty device context has no guest memory.");

    /// <inheritdoc />
    public IReadOnlyList<IVirtqueue> Queues => [];

    /// <summary>Never: no region was mapped.</summary>
    public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
    {
        region = null;
        return false;
    }

    /// <summary>Ignored.</summary>
    public void ScheduleQueue(int queueIndex)
    {
    }

    /// <summary>Ignored.</summary>
    public void SignalConfigChanged()
    {
    }
}
