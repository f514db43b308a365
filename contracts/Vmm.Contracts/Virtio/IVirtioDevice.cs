using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// A virtio device, independent of where its guest is: the KVM platform, a vhost-user frontend (QEMU, crosvm,
/// cloud-hypervisor) or the in-process test driver. The transport owns feature negotiation, the status state
/// machine, queue set-up and interrupts; the device owns its config space and what its queues carry.
/// </summary>
/// <remarks>
/// <para>Lifecycle. A device is in one of three states, and only the transport moves it between them:</para>
/// <list type="table">
/// <listheader><term>state</term><description>what the transport calls, and where it leads</description></listheader>
/// <item><term>Created</term><description>
/// After the factory returns. The transport reads <see cref="DeviceType"/>, <see cref="DeviceFeatures"/>,
/// <see cref="QueueMaxSizes"/>, <see cref="SharedMemoryRegions"/> and <see cref="ConfigSize"/> once, and config space
/// may be read and written. When the driver sets DRIVER_OK (features negotiated, queues set up),
/// <see cref="Activate"/> moves the device to Active.
/// </description></item>
/// <item><term>Active</term><description>
/// <see cref="ProcessQueue"/> is called for notified queues, config space is still accessed. A
/// <see cref="VirtioProtocolException"/> thrown by the device (a malformed request) moves it to NeedsReset: the
/// transport sets DEVICE_NEEDS_RESET and stops calling <see cref="ProcessQueue"/>. When the driver writes status 0,
/// <see cref="Reset"/> moves it back to Created.
/// </description></item>
/// <item><term>NeedsReset</term><description>
/// Only config space access and <see cref="Reset"/>, which moves it back to Created.
/// </description></item>
/// </list>
/// <para>
/// <see cref="Reset"/> may also come in Created (a driver resets before first use) and must then do nothing harmful;
/// after it the device is as new, and <see cref="Activate"/> may come again with a new context. Disposing ends the
/// device from any state; nothing is called after it.
/// </para>
/// <para>
/// Threading: <see cref="ProcessQueue"/>, <see cref="Activate"/> and <see cref="Reset"/> are called on the
/// device's own worker, one at a time. Config space access comes from the transport (a vCPU or the vhost-user
/// socket thread) and must be safe against the worker. A device that hands a queue to a thread of its own
/// (<see cref="IVirtqueue"/>) must have that thread put the queue down before <see cref="Reset"/> returns.
/// </para>
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

    /// <summary>Shared-memory regions the device wants, with the ids its device type's specification defines.</summary>
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
