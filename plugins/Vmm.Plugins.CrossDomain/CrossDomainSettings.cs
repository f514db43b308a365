using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Files;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain;

/// <summary>
/// The host display sockets cross-domain channels may reach. Starts from the environment (<c>$DISPLAY</c>,
/// <c>$WAYLAND_DISPLAY</c>, as libkrun does); a <c>cross-domain</c> device in the VM config replaces both.
/// Read when the guest asks (GET_CAPSET, INIT), so the order of devices in the config does not matter.
/// </summary>
internal sealed class CrossDomainSettings
{
    private volatile Snapshot _current;

    /// <summary>Settings with the given sockets (null: that channel is off) and virtio-fs export tables (futex files).</summary>
    public CrossDomainSettings(DisplaySocket? x11 = null, DisplaySocket? wayland = null, IReadOnlyList<IFileExportTable>? exports = null)
        => _current = new(x11, wayland, exports ?? []);

    /// <summary>The X11 display, or null when X11 channels are refused.</summary>
    public DisplaySocket? X11 => _current.X11;

    /// <summary>The Wayland display, or null when Wayland channels are refused.</summary>
    public DisplaySocket? Wayland => _current.Wayland;

    /// <summary>The virtio-fs export tables of the VM's other plugins, where FUTEX_NEW finds its file.</summary>
    public IReadOnlyList<IFileExportTable> Exports => _current.Exports;

    /// <summary>The capset's supported_channels: a bit <c>1 &lt;&lt; type</c> for each configured channel.</summary>
    public uint SupportedChannels
    {
        get
        {
            Snapshot current = _current;
            return (current.X11 is null ? 0 : 1u << (int)CrossDomainChannelType.X11)
                | (current.Wayland is null ? 0 : 1u << (int)CrossDomainChannelType.Wayland);
        }
    }

    /// <summary>Settings from <c>$DISPLAY</c> and <c>$WAYLAND_DISPLAY</c> (unset or unusable: that channel is off).</summary>
    public static CrossDomainSettings FromEnvironment()
    {
        string? display = Environment.GetEnvironmentVariable("DISPLAY");
        string? wayland = Environment.GetEnvironmentVariable("WAYLAND_DISPLAY");
        return new CrossDomainSettings(
            string.IsNullOrEmpty(display) ? null : DisplaySocket.ParseX11(display, out _),
            string.IsNullOrEmpty(wayland) ? null : DisplaySocket.ParseWayland(wayland, Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), out _));
    }

    /// <summary>The socket for <paramref name="channel"/>, or null when it is not configured.</summary>
    public DisplaySocket? For(CrossDomainChannelType channel) => channel switch
    {
        CrossDomainChannelType.X11 => _current.X11,
        CrossDomainChannelType.Wayland => _current.Wayland,
        _ => null,
    };

    /// <summary>A new descriptor for the virtio-fs export (fs_id, handle), or null when no table has it.</summary>
    public SafeFileHandle? OpenExport(ulong fileSystemId, ulong handle)
    {
        foreach (IFileExportTable table in _current.Exports)
        {
            if (table.OpenExport(fileSystemId, handle) is SafeFileHandle file)
            {
                return file;
            }
        }

        return null;
    }

    /// <summary>Replaces the sockets and export tables at once.</summary>
    public void Set(DisplaySocket? x11, DisplaySocket? wayland, IReadOnlyList<IFileExportTable>? exports = null) => _current = new(x11, wayland, exports ?? []);

    private sealed record Snapshot(DisplaySocket? X11, DisplaySocket? Wayland, IReadOnlyList<IFileExportTable> Exports);
}
