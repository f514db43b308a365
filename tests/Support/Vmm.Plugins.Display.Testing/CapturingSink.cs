using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.Testing;

/// <summary>A sink that records what a source publishes, copying each frame's pixels.</summary>
public sealed class CapturingSink : IDisplaySink
{
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public string Id => "capture";

    /// <summary>Every mode published, in order.</summary>
    public List<DisplayMode> Modes { get; } = [];

    /// <summary>Every frame published, with a copy of its pixels and damage.</summary>
    public List<(DisplayMode Mode, byte[] Pixels, DamageRect[] Damage, ulong Sequence)> Frames { get; } = [];

    /// <summary>Every cursor shape published.</summary>
    public List<CursorShape> Shapes { get; } = [];

    /// <summary>Every cursor position published.</summary>
    public List<CursorPosition> Positions { get; } = [];

    /// <inheritdoc />
    public void OnModeChanged(DisplayMode mode)
    {
        lock (_lock)
        {
            Modes.Add(mode);
        }
    }

    /// <inheritdoc />
    public void OnFrame(DisplayFrame frame)
    {
        lock (_lock)
        {
            Frames.Add((frame.Mode, frame.Pixels.ToArray(), frame.Damage.ToArray(), frame.Sequence));
        }
    }

    /// <inheritdoc />
    public void OnCursorShape(CursorShape shape)
    {
        lock (_lock)
        {
            Shapes.Add(shape);
        }
    }

    /// <inheritdoc />
    public void OnCursorPosition(CursorPosition position)
    {
        lock (_lock)
        {
            Positions.Add(position);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
