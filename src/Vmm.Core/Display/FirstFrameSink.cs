using Vmm.Contracts.Display;

namespace Vmm.Core.Display;

/// <summary>
/// Passes everything to a snapshot sink and completes <see cref="FirstFrame"/> once a frame has reached it: a
/// screenshot's temporary sink waits on it for the full frame the source resends when the sink is attached.
/// </summary>
internal sealed class FirstFrameSink(IDisplaySnapshotSink inner) : IDisplaySegmentedFrameSink
{
    private readonly TaskCompletionSource _firstFrame = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id => inner.Id;

    public bool AcceptsSegmentedFrames => inner is IDisplaySegmentedFrameSink { AcceptsSegmentedFrames: true };

    /// <summary>Completes after the inner sink took its first frame.</summary>
    public Task FirstFrame => _firstFrame.Task;

    public void OnModeChanged(DisplayMode mode) => inner.OnModeChanged(mode);

    public void OnFrame(DisplayFrame frame)
    {
        inner.OnFrame(frame);
        _firstFrame.TrySetResult();
    }

    public void OnCursorShape(CursorShape shape) => inner.OnCursorShape(shape);

    public void OnCursorPosition(CursorPosition position) => inner.OnCursorPosition(position);

    // The inner sink is the caller's to dispose.
    public void Dispose()
    {
    }
}
