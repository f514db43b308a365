namespace Vmm.Contracts.Display;

/// <summary>
/// The surface of a segmented <see cref="DisplayFrame"/> (contract 2.2): one byte stream of
/// <c>(Height - 1) * Stride + Width * 4</c> bytes, pixel (0, 0) at offset 0, held in several pieces of memory (a
/// guest's scattered pages). Valid only during the <see cref="IDisplaySink.OnFrame"/> call it came with. Sinks read
/// it through <see cref="DisplayFrame.CopyRect"/> and <see cref="DisplayFrame.ReadRow"/> rather than directly.
/// </summary>
public interface IDisplayFrameSegments
{
    /// <summary>
    /// The surface's bytes from <paramref name="offset"/> to the end of the piece of memory that holds it: never
    /// empty for an offset inside the surface. Must not allocate; a frame's readers call it once per piece they cross.
    /// </summary>
    ReadOnlySpan<byte> GetSegment(int offset);
}
