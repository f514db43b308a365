using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Virtio.Pci;

/// <summary>What the transport hands a device at DRIVER_OK.</summary>
internal sealed class VirtioDeviceContext(
    VirtioPciTransport transport,
    ulong negotiatedFeatures,
    IGuestMemory memory,
    IReadOnlyList<IVirtqueue> queues,
    IReadOnlyList<ISharedMemoryRegion> sharedMemory) : IVirtioDeviceContext
{
    public ulong NegotiatedFeatures { get; } = negotiatedFeatures;

    public IGuestMemory Memory { get; } = memory;

    public IReadOnlyList<IVirtqueue> Queues { get; } = queues;

    public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
    {
        foreach (ISharedMemoryRegion candidate in sharedMemory)
        {
            if (candidate.Id == id)
            {
                region = candidate;
                return true;
            }
        }

        region = null;
        return false;
    }

    public void ScheduleQueue(int queueIndex) => transport.Worker.Schedule(queueIndex);

    public void SignalConfigChanged() => transport.SignalConfigChanged();
}
