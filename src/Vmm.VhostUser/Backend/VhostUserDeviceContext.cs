using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Execution;

namespace Vmm.VhostUser.Backend;

/// <summary>What a device served over vhost-user sees once the front-end started its rings.</summary>
internal sealed class VhostUserDeviceContext : IVirtioDeviceContext
{
    private readonly VirtioDeviceWorker _worker;

    public VhostUserDeviceContext(ulong negotiatedFeatures, IGuestMemory memory, IReadOnlyList<IVirtqueue> queues, VirtioDeviceWorker worker)
    {
        NegotiatedFeatures = negotiatedFeatures;
        Memory = memory;
        Queues = queues;
        _worker = worker;
    }

    public ulong NegotiatedFeatures { get; }

    public IGuestMemory Memory { get; }

    public IReadOnlyList<IVirtqueue> Queues { get; }

    /// <summary>QEMU's vhost-user front-ends do not map back-end shared memory (no SHMEM_MAP here yet).</summary>
    public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
    {
        region = null;
        return false;
    }

    public void ScheduleQueue(int queueIndex) => _worker.Schedule(queueIndex);

    /// <summary>Needs the back-end request channel (CONFIG_CHANGE_MSG), which we do not offer yet.</summary>
    public void SignalConfigChanged()
    {
    }
}
