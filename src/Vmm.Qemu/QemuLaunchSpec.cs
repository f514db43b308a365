namespace Vmm.Qemu;

/// <summary>One vhost-user device QEMU connects to.</summary>
/// <param name="Id">The device id (used for QEMU's chardev and device ids).</param>
/// <param name="Driver">The QEMU front-end device, for example <c>vhost-user-rng-pci</c>.</param>
/// <param name="SocketPath">The back-end's Unix socket.</param>
/// <param name="ExtraProperties">More <c>-device</c> properties, for example <c>tag=share</c> for virtio-fs.</param>
public sealed record QemuVhostUserDevice(string Id, string Driver, string SocketPath, IReadOnlyList<string> ExtraProperties);

/// <summary>
/// One IVSHMEM device QEMU gives the guest itself: <c>ivshmem-plain</c> over a <c>memory-backend-file,share=on</c>
/// on the same file our device maps, so the host sees every guest write.
/// </summary>
/// <param name="Id">The device id (QEMU's <c>-device</c> id; the backend is <c>ivshmem</c> plus its index).</param>
/// <param name="MemoryPath">The file QEMU maps: the host path, or <c>/proc/PID/fd/FD</c> for a memfd.</param>
/// <param name="Size">BAR2's size in bytes, the file's size.</param>
public sealed record QemuIvshmemDevice(string Id, string MemoryPath, ulong Size);

/// <summary>Everything the QEMU command line is built from.</summary>
/// <param name="MemoryBytes">Guest RAM; shared memfd so vhost-user back-ends can map it. A multiple of 1 MiB.</param>
/// <param name="Vcpus">vCPUs.</param>
/// <param name="Accelerator">KVM or TCG (not Auto: decide before building).</param>
/// <param name="KernelPath">The kernel.</param>
/// <param name="InitrdPath">The initrd, or null.</param>
/// <param name="CommandLine">The kernel command line.</param>
/// <param name="Devices">The vhost-user devices.</param>
public sealed record QemuLaunchSpec(
    ulong MemoryBytes,
    int Vcpus,
    QemuAccelerator Accelerator,
    string KernelPath,
    string? InitrdPath,
    string CommandLine,
    IReadOnlyList<QemuVhostUserDevice> Devices)
{
    /// <summary>The Unix socket QEMU serves QMP on (the platform's clean stop), or null for none.</summary>
    public string? QmpSocketPath { get; init; }

    /// <summary>The IVSHMEM devices, each an <c>ivshmem-plain</c> on its own memory backend.</summary>
    public IReadOnlyList<QemuIvshmemDevice> IvshmemDevices { get; init; } = [];
}
