namespace Vmm.Plugins.CrossDomain;

/// <summary>The options of a <c>cross-domain</c> device: which host display sockets guest channels may reach.</summary>
public sealed class CrossDomainOptions
{
    /// <summary>
    /// The host X server for X11 channels: <c>:N</c> (the abstract socket <c>@/tmp/.X11-unix/XN</c>, then
    /// <c>/tmp/.X11-unix/XN</c>), an absolute socket path, or <c>@name</c> (abstract). Left out: <c>$DISPLAY</c>
    /// of the vmm process. Empty: X11 channels are refused.
    /// </summary>
    public string? X11Display { get; set; }

    /// <summary>
    /// The host Wayland compositor for Wayland channels: a name in <c>$XDG_RUNTIME_DIR</c> (<c>wayland-0</c>) or an
    /// absolute socket path. Left out: <c>$WAYLAND_DISPLAY</c>. Empty: Wayland channels are refused.
    /// </summary>
    public string? WaylandDisplay { get; set; }
}
