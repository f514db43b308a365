using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>A sink that records what a source publishes, copying each frame's pixels.</summary>
internal sealed class CapturingSink : IDisplaySink
{
    private readonly Lock _lock = new();

    public string Id => "capture";

    public List<DisplayMode> Modes { get; } = [];

    public List<(DisplayMode Mode, byte[] Pixels, DamageRect[] Damage, ulong Sequence)> Frames { get; } = [];

    public List<CursorShape> Shapes { get; } = [];

    public List<CursorPosition> Positions { get; } = [];

    public void OnModeChanged(DisplayMode mode)
    {
        lock (_lock)
        {
            Modes.Add(mode);
        }
    }

    public void OnFrame(DisplayFrame frame)
    {
        lock (_lock)
        {
            Frames.Add((frame.Mode, frame.Pixels.ToArray(), frame.Damage.ToArray(), frame.Sequence));
        }
    }

    public void OnCursorShape(CursorShape shape)
    {
        lock (_lock)
        {
            Shapes.Add(shape);
        }
    }

    public void OnCursorPosition(CursorPosition position)
    {
        lock (_lock)
        {
            Positions.Add(position);
        }
    }

    public void Dispose()
    {
    }
}
