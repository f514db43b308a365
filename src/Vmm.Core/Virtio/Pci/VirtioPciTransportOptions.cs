using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Virtio.Pci;

/// <summary>Platform choices for a <see cref="VirtioPciTransport"/>.</summary>
public sealed class VirtioPciTransportOptions
{
    /// <summary>Where log messages go; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Creates the backing of a shared-memory region the device asked for. Null: an in-process
    /// <see cref="Memory.SharedMemoryWindow"/>. The platform exposes it to the guest by following
    /// <see cref="Core.Pci.PciRoot.BarMoved"/> for BAR2 (a KVM memory slot, a vhost-user region).
    /// </summary>
    public Func<SharedMemoryRegionRequest, ISharedMemoryRegion>? SharedMemoryFactory { get; init; }

    /// <summary>
    /// A testing seam, never set by the VMM: the device runs on the thread that touches the transport
    /// (<see cref="Execution.VirtioDeviceWorker.CreateSynchronous"/>), so a fuzz harness's input always takes one path.
    /// </summary>
    public bool SynchronousWorker { get; init; }

    /// <summary>How long a call may take and what the device may keep before it is failed (<see cref="Execution.DeviceLimits.Default"/> when null).</summary>
    public Execution.DeviceLimits? Limits { get; init; }
}
