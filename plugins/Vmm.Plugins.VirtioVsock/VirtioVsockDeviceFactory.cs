using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Plugins.VirtioVsock.Protocol;

namespace Vmm.Plugins.VirtioVsock;

/// <summary>Builds <see cref="VirtioVsockDevice"/>s from <see cref="VirtioVsockOptions"/>.</summary>
public sealed class VirtioVsockDeviceFactory : DeviceFactory<VirtioVsockOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "virtio-vsock";

    // sockaddr_un.sun_path is 108 bytes with its NUL; "_4294967295" is the longest port suffix.
    private const int MaxSocketPathBytes = 107 - 11;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Socket device (virtio-vsock), Firecracker hybrid style: guest port connections reach Unix sockets <uds>_PORT, host processes CONNECT through <uds>.";

    /// <inheritdoc />
    protected override void Validate(VirtioVsockOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (options.GuestCid < VsockLayout.FirstGuestCid || options.GuestCid > uint.MaxValue - 1)
        {
            context.AddError("guestCid", $"must be from {VsockLayout.FirstGuestCid} to {uint.MaxValue - 1} (0-2 are reserved, 2 is the host), not {options.GuestCid}.");
        }

        if (string.IsNullOrWhiteSpace(options.Uds))
        {
            context.AddError("uds", "is required: the Unix socket of the device's host side (for example /tmp/vm.vsock).");
            return;
        }

        string path = context.ResolvePath(options.Uds);
        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
        {
            context.AddError("uds", $"'{path}' is too long for a Unix socket with a port suffix ({MaxSocketPathBytes} bytes at most).");
        }
        else if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
        {
            context.AddError("uds", $"the folder '{folder}' does not exist.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VirtioVsockOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);

        // Absolute from here on: the status command shows the options, and `vmm exec` connects to what it shows.
        options.Uds = Path.GetFullPath(options.Uds!, context.BaseDirectory);
        return new VirtioVsockDevice(context.Id, options.GuestCid, options.Uds, context.LoggerFactory);
    }
}
