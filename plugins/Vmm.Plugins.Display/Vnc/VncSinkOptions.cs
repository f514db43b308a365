namespace Vmm.Plugins.Display.Vnc;

/// <summary>The options of a <c>display-vnc</c> sink.</summary>
public sealed class VncSinkOptions
{
    /// <summary>The address to listen on; loopback by default (there is no authentication).</summary>
    public string Listen { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one.</summary>
    public int Port { get; set; } = 5900;

    /// <summary>The desktop name clients show.</summary>
    public string DesktopName { get; set; } = "Vmm";
}
