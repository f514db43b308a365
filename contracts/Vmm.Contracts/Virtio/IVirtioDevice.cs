using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// A virtio device, independent of where its guest is: the KVM platform, a vhost-user frontend (QEMU, crosvm,
/// cloud-hypervisor) or the in-process test driver. The transport owns feature negotiation, the status state
/// machine, queue set-up and interrupts; the device owns its config space and what its queues carry.
/// </summary>
/// <remarks>
/// Threading: <see cref="ProcessQueue"/>, <see cref="Activate"/> and <see cref="Reset"/> are called on the
/// device's own worker, one at a time. Config space access comes from the transport (a vCPU or the vhost-user
/// socket thread) and must be safe against the worker.
/// </remarks>
public interface IVirtioDevice : IDevice
{
    /// <summary>The virtio device type.</summary>
    VirtioDeviceType DeviceType { get; }

    /// <summary>
    /// The feature bits the device offers: its device-specific bits and any of <see cref="VirtioFeatures"/> it
    /// supports. The transport adds <see cref="VirtioFeatures.Version1"/>, indirect descriptors and event index.
    /// </summary>
    ulong DeviceFeatures { get; }

    /// <summary>The maximum size of each queue (a power of two, at most 32768); the count is the number of queues.</summary>
    IReadOnlyList<ushort> QueueMaxSizes { get; }

    /// <summary>Shared-memory regions the device wants (virtio-fs DAX window id 0, virtio-gpu host-visible id 1).</summary>
    IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions { get; }

    /// <summary>The size of the device-specific config space in bytes.</summary>
    int ConfigSize { get; }

    /// <summary>Reads device config; <paramref name="offset"/> + length is within <see cref="ConfigSize"/>.</summary>
    void ReadConfig(int offset, Span<byte> data);

    /// <summary>Writes device config; the transport has checked the range. Ignore writes to read-only fields.</summary>
    void WriteConfig(int offset, ReadOnlySpan<byte> data);

    /// <summary>The driver set DRIVER_OK: queues are ready, features are final.</summary>
    void Activate(IVirtioDeviceContext context);

    /// <summary>The driver notified queue <paramref name="queueIndex"/>, or the device scheduled it.</summary>
    void ProcessQueue(int queueIndex);

    /// <summary>The driver reset the device: drop every request in flight and return to the initial state.</summary>
    void Reset();
}
