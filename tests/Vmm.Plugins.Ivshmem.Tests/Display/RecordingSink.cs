using Vmm.Contracts.Display;

namespace Vmm.Plugins.Ivshmem.Tests.Display;

/// <summary>A display sink that keeps what it is sent (frames copied) and lets a test wait for a condition.</summary>
internal sealed class RecordingSink(string id = "recording") : IDisplaySink
{
    private readonly Lock _lock = new();
    private readonly List<DisplayMode> _modes = [];
    private readonly List<(DisplayMode Mode, byte[] Pixels, DamageRect[] Damage)> _frames = [];
    private readonly List<CursorShape> _shapes = [];
    private readonly List<CursorPosition> _positions = [];

    public string Id { get; } = id;

    public void OnModeChanged(DisplayMode mode)
    {
        lock (_lock)
        {
            _modes.Add(mode);
        }
    }

    public void OnFrame(DisplayFrame frame)
    {
        lock (_lock)
        {
            _frames.Add((frame.Mode, frame.Pixels[..(frame.Mode.Stride * frame.Mode.Height)].ToArray(), frame.Damage.ToArray()));
        }
    }

    public void OnCursorShape(CursorShape shape)
    {
        lock (_lock)
        {
            _shapes.Add(shape);
        }
    }

    public void OnCursorPosition(CursorPosition position)
    {
        lock (_lock)
        {
            _positions.Add(position);
        }
    }

    public void Dispose()
    {
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a frame that <paramref name="match"/> accepts and returns it.</summary>
    public (DisplayMode Mode, byte[] Pixels, DamageRect[] Damage) WaitForFrame(Func<DisplayMode, byte[], bool> match, TimeSpan timeout)
    {
        (DisplayMode, byte[], DamageRect[])? found = null;
        WaitUntil(() => (found = _frames.LastOrDefault(f => match(f.Mode, f.Pixels)) is var f && f.Pixels is not null ? f : null) is not null, timeout, "a matching frame");
        return found!.Value;
    }

    /// <summary>Waits for a condition over the recorded calls, evaluated under the sink's lock.</summary>
    public void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_lock)
            {
                if (condition())
                {
                    return;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                lock (_lock)
                {
                    throw new TimeoutException($"No {what} within {timeout.TotalSeconds} s: {_modes.Count} modes, {_frames.Count} frames, {_shapes.Count} cursor shapes, {_positions.Count} positions.");
                }
            }

            Thread.Sleep(5);
        }
    }

    public List<DisplayMode> Modes { get { lock (_lock) { return [.. _modes]; } } }

    public List<CursorShape> Shapes { get { lock (_lock) { return [.. _shapes]; } } }

    public List<CursorPosition> Positions { get { lock (_lock) { return [.. _positions]; } } }

    public int FrameCount { get { lock (_lock) { return _frames.Count; } } }
}
