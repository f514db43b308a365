using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.Testing;

/// <summary>
/// A sink that records what a source publishes, copying each frame's whole surface. It takes segmented frames when
/// <see cref="AcceptsSegmentedFrames"/> is set (off by default: a sink from before contract 2.2) and records which
/// frames came segmented.
/// </summary>
public sealed class CapturingSink : IDisplaySegmentedFrameSink
{
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public string Id => "capture";

    /// <summary>Every mode published, in order.</summary>
    public List<DisplayMode> Modes { get; } = [];

    /// <summary>Every frame published, with a copy of its pixels and damage.</summary>
    public List<(DisplayMode Mode, byte[] Pixels, DamageRect[] Damage, ulong Sequence)> Frames { get; } = [];

    /// <summary>The sequence numbers of the frames that came segmented.</summary>
    public List<ulong> SegmentedSequences { get; } = [];

    /// <inheritdoc />
    public bool AcceptsSegmentedFrames { get; set; }

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
            if (frame.IsSegmented && !AcceptsSegmentedFrames)
            {
                throw new InvalidOperationException($"Frame {frame.Sequence} came segmented to a sink that does not take them.");
            }

            byte[] pixels;
            if (frame.IsSegmented)
            {
                // The whole surface, read back through the contract's walk.
                DisplayMode mode = frame.Mode;
                pixels = new byte[((mode.Height - 1) * mode.Stride) + (mode.Width * 4)];
                frame.CopyRect(new DamageRect(0, 0, mode.Width, mode.Height), pixels, mode.Stride);
                SegmentedSequences.Add(frame.Sequence);
            }
            else
            {
                pixels = frame.Pixels.ToArray();
            }

            Frames.Add((frame.Mode, pixels, frame.Damage.ToArray(), frame.Sequence));
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
