using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Display;

/// <summary>
/// Something that shows or records a display: a VNC server, a Looking Glass KVMFR export, PNG snapshots. Sinks are
/// devices in the VM config; the display router attaches them to the active source and can re-attach them to
/// another source while the VM runs. Calls come from the source's thread, one at a time; return quickly.
/// </summary>
public interface IDisplaySink : IDevice
{
    /// <summary>The surface changed size or format; a full frame follows.</summary>
    void OnModeChanged(DisplayMode mode);

    /// <summary>A new frame; copy what is needed before returning.</summary>
    void OnFrame(DisplayFrame frame);

    /// <summary>The cursor image changed.</summary>
    void OnCursorShape(CursorShape shape);

    /// <summary>The cursor moved or was hidden.</summary>
    void OnCursorPosition(CursorPosition position);
}
