namespace Vmm.Plugins.VirtioVsock;

/// <summary>
/// The options of a <c>virtio-vsock</c> device, as Firecracker's <c>vsock</c> config: the guest's CID and the Unix
/// socket the host side lives on.
/// </summary>
public sealed class VirtioVsockOptions
{
    /// <summary>The guest's context id (3 or more; 0-2 are reserved, 2 is the host).</summary>
    public ulong GuestCid { get; set; } = 3;

    /// <summary>
    /// The device's Unix socket; relative to the config's folder. Host processes connect here and write
    /// <c>CONNECT &lt;port&gt;\n</c> to reach a guest port; a guest connection to host port P reaches <c>&lt;uds&gt;_P</c>.
    /// The factory makes it absolute, so the <c>status</c> control command reports where it is.
    /// </summary>
    public string? Uds { get; set; }
}
