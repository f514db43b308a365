using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>
/// A 2D resource: its host copy of the pixels, its optional guest backing, and whether that backing mirrors the
/// pixels (<see cref="Mirrored"/>), in which case scanouts show the backing itself.
/// </summary>
internal sealed class GpuResource2D(uint id, PixelFormat format, uint width, uint height, byte[] pixels) : GpuResource(id)
{
    public PixelFormat Format { get; } = format;

    public uint Width { get; } = width;

    public uint Height { get; } = height;

    /// <summary>Bytes a row; 2D resources are tightly packed.</summary>
    public int Stride => (int)Width * Protocol.GpuLayout.BytesPerPixel;

    /// <summary>
    /// The host copy; current only while the resource is not <see cref="Mirrored"/>, or, for a scattered mirror, while
    /// <see cref="HostCopyCurrent"/>.
    /// </summary>
    public byte[] Pixels { get; } = pixels;

    public GuestBacking? Backing { get; set; }

    /// <summary>
    /// Whether the backing is laid out exactly as the resource (at least <c>Stride * Height</c> bytes, each of its runs
    /// in one region of guest memory): TRANSFER_TO_HOST_2D with the offset Linux sends (the rect's own position) then
    /// copies nothing and scanouts read the guest's bytes at flush time, as they do for a guest blob: one copy per
    /// frame (the sink's) instead of two. Set by <see cref="BeginMirror"/>, cleared by <see cref="EndMirror"/>.
    /// </summary>
    public bool Mirrored { get; private set; }

    /// <summary>The guest address of a mirrored backing that is one contiguous range, or null (none, or scattered).</summary>
    public ulong? MirrorAddress { get; private set; }

    /// <summary>
    /// For a scattered mirror: whether the host copy holds what the backing held at each part's last flush, so a
    /// frame for a sink that takes no segments needs only its damage gathered. False after a frame went out in
    /// segments (its damage skipped the host copy).
    /// </summary>
    public bool HostCopyCurrent { get; set; }

    public override long ChargedBytes => Pixels.LongLength;

    /// <summary>Mirrors <see cref="Backing"/> (at <paramref name="address"/> when it is one contiguous range).</summary>
    public void BeginMirror(ulong? address)
    {
        Mirrored = true;
        MirrorAddress = address;
        HostCopyCurrent = false;
    }

    /// <summary>
    /// The resource's current pixels: the mirrored guest bytes of a contiguous mirror (resolved on each call, so a
    /// remapped guest memory is never read through a stale span), the host copy after gathering a scattered mirror's
    /// backing into it, or the host copy.
    /// </summary>
    public ReadOnlySpan<byte> PixelsIn(IGuestMemory? memory)
    {
        if (MirrorAddress is ulong address && memory is not null && memory.TryGetSpan(address, Pixels.Length, out Span<byte> guest))
        {
            return guest;
        }

        if (Mirrored && MirrorAddress is null && memory is not null && Backing is { } backing)
        {
            backing.Read(memory, 0, Pixels);
            HostCopyCurrent = true;
        }

        return Pixels;
    }

    /// <summary>Stops mirroring: the host copy takes the backing's current bytes first (DETACH_BACKING, an odd transfer).</summary>
    public void EndMirror(IGuestMemory? memory)
    {
        if (!Mirrored)
        {
            return;
        }

        ReadOnlySpan<byte> current = PixelsIn(memory);
        if (current != Pixels)
        {
            current.CopyTo(Pixels);
        }

        Mirrored = false;
        MirrorAddress = null;
    }
}
