namespace Vmm.Contracts.Display;

/// <summary>
/// A display sink that takes segmented frames (<see cref="DisplayFrame.IsSegmented"/>; contract 2.2), because it
/// reads pixels only through <see cref="DisplayFrame.CopyRect"/> and <see cref="DisplayFrame.ReadRow"/>. A source
/// publishes a segmented frame only to a sink that implements this and answers true at that frame; every other sink
/// gets frames with the whole surface in <see cref="DisplayFrame.Pixels"/>, as before 2.2 (the source gathers it).
/// The display router answers for the sinks it fans out to: true while every attached sink does.
/// </summary>
public interface IDisplaySegmentedFrameSink : IDisplaySink
{
    /// <summary>
    /// Whether the next <see cref="IDisplaySink.OnFrame"/> may be a segmented frame; read before each frame, so keep it
    /// cheap, and keep the answer while attached (the router drops, rather than gathers, a segmented frame for a sink
    /// that answers false by the time it arrives; the full frame a source sends on attach puts such a sink right).
    /// </summary>
    bool AcceptsSegmentedFrames { get; }
}
