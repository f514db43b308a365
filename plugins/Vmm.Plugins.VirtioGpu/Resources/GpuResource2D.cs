using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>
/// A 2D resource: its host copy of the pixels, its optional guest backing, and whether that backing mirrors the
/// pixels (see <see cref="MirrorAddress"/>), in which case scanouts show the backing itself.
/// </summary>
internal sealed class GpuResource2D(uint id, PixelFormat format, uint width, uint height, byte[] pixels) : GpuResource(id)
{
    public PixelFormat Format { get; } = format;

    public uint Width { get; } = width;

    public uint Height { get; } = height;

    /// <summary>Bytes a row; 2D resources are tightly packed.</summary>
    public int Stride => (int)Width * Protocol.GpuLayout.BytesPerPixel;

    /// <summary>The host copy; current only while <see cref="MirrorAddress"/> is null.</summary>
    public byte[] Pixels { get; } = pixels;

    public GuestBacking? Backing { get; set; }

    /// <summary>
    /// The guest address of a backing laid out exactly as the resource (one contiguous range of
    /// <c>Stride * Height</c> bytes, in one region of guest memory), or null. While set, TRANSFER_TO_HOST_2D with the
    /// offset Linux sends (the rect's own position) copies nothing and scanouts read the guest's bytes at flush time,
    /// as they do for a guest blob: one copy per frame (the sink's) instead of two.
    /// </summary>
    public ulong? MirrorAddress { get; set; }

    public override long ChargedBytes => Pixels.LongLength;

    /// <summary>
    /// The resource's pixels: the mirrored guest bytes (resolved on each call, so a remapped guest memory is never
    /// read through a stale span) or the host copy.
    /// </summary>
    public ReadOnlySpan<byte> PixelsIn(IGuestMemory? memory)
        => MirrorAddress is ulong address && memory is not null && memory.TryGetSpan(address, Pixels.Length, out Span<byte> guest)
            ? guest
            : Pixels;

    /// <summary>Stops mirroring: the host copy takes the backing's current bytes first (DETACH_BACKING, an odd transfer).</summary>
    public void EndMirror(IGuestMemory? memory)
    {
        if (MirrorAddress is null)
        {
            return;
        }

        PixelsIn(memory).CopyTo(Pixels);
        MirrorAddress = null;
    }
}
