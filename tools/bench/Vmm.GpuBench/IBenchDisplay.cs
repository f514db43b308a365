namespace Vmm.GpuBench;

/// <summary>Where a back-end's frames end up: our display sink, or the vhost-user-gpu display peer for QEMU's back-end.</summary>
internal interface IBenchDisplay
{
    /// <summary>Frames (flushes) the display has copied so far.</summary>
    long Frames { get; }

    /// <summary>Waits until <see cref="Frames"/> reaches <paramref name="count"/>; false on timeout.</summary>
    bool WaitForFrames(long count, TimeSpan timeout);

    /// <summary>A copy of the shown frame (4 bytes a pixel, packed rows) and its size.</summary>
    (byte[] Pixels, int Width, int Height) CopyFrame();
}
