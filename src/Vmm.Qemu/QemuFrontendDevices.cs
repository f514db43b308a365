using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Virtio;

namespace Vmm.Qemu;

/// <summary>Which QEMU vhost-user front-end device serves each virtio device type.</summary>
public static class QemuFrontendDevices
{
    /// <summary>The QEMU <c>-device</c> driver for <paramref name="type"/>, or false when QEMU has none we support.</summary>
    public static bool TryGetDriver(VirtioDeviceType type, [NotNullWhen(true)] out string? driver)
    {
        driver = type switch
        {
            VirtioDeviceType.Entropy => "vhost-user-rng-pci",
            VirtioDeviceType.FileSystem => "vhost-user-fs-pci",
            VirtioDeviceType.Gpu => "vhost-user-gpu-pci",
            VirtioDeviceType.Input => "vhost-user-input-pci",

            // QEMU reads guest_cid from the back-end (GET_CONFIG) and keeps the event queue for itself.
            VirtioDeviceType.Vsock => "vhost-user-vsock-pci",
            _ => null,
        };
        return driver is not null;
    }
}
