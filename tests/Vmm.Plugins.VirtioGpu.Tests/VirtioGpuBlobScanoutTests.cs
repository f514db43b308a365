using Vmm.Contracts.Display;
using Vmm.Contracts.Virtio;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// Guest blobs as Linux makes its dumb buffers with RESOURCE_BLOB and no VIRGL: CREATE_BLOB with the pages,
/// SET_SCANOUT_BLOB, TRANSFER_TO_HOST_2D (accepted, nothing copied) and flushes that read the damage from guest memory.
/// </summary>
public sealed class VirtioGpuBlobScanoutTests : IDisposable
{
    private const uint Guest = 1;
    private const uint Shareable = 2;
    private const uint XRGB = 2;

    private readonly GpuGuest _guest = new(memorySize: 32UL << 20);
    private readonly CapturingSink _sink = new();

    public VirtioGpuBlobScanoutTests() => _guest.Device.Connect(_sink);

    public void Dispose() => _guest.Dispose();

    [Fact]
    public void Resource_blob_is_offered_by_default_and_can_be_turned_off()
    {
        Assert.NotEqual(0UL, _guest.Driver.NegotiatedFeatures & (1UL << 3));
        using var off = new GpuGuest(new VirtioGpuOptions { ResourceBlob = false });
        Assert.Equal(0UL, off.Driver.NegotiatedFeatures & (1UL << 3));
        GuestBuffer pages = off.Machine.AllocateBuffer(4096);
        Assert.Equal(GpuGuest.ErrUnspecified, off.SendType(CreateBlob(1, Guest, Shareable, 4096, entries: (pages.Address, 4096))));
    }

    [Fact]
    public void A_scattered_guest_blob_shows_its_pixels_and_a_flush_copies_only_the_damaged_rows()
    {
        // A 16x8 XRGB framebuffer (512 bytes) in two runs that are not adjacent in guest memory.
        GuestBuffer first = _guest.Machine.AllocateBuffer(256);
        _guest.Machine.AllocateBuffer(4096);
        GuestBuffer second = _guest.Machine.AllocateBuffer(256);
        byte[] image = Pattern(512, seed: 1);
        _guest.Machine.Memory.Write(first.Address, image.AsSpan(0, 256));
        _guest.Machine.Memory.Write(second.Address, image.AsSpan(256));

        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(5, Guest, Shareable, 512, entries: [(first.Address, 256), (second.Address, 256)])));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanoutBlob(0, 5, (0, 0, 16, 8), 16, 8, XRGB, 64, 0)));
        Assert.Equal(new DisplayMode(16, 8, 64, PixelFormat.B8G8R8X8), _sink.Modes[^1]);
        Assert.Equal(image, _sink.Frames[^1].Pixels);
        Assert.Equal([new DamageRect(0, 0, 16, 8)], _sink.Frames[^1].Damage);

        // The guest draws rows 1 and 6, then flushes only row 6 (in the second run); Linux sends the transfer too.
        byte[] drawn = (byte[])image.Clone();
        Pattern(64, seed: 2).CopyTo(drawn, 64);
        Pattern(64, seed: 3).CopyTo(drawn, 6 * 64);
        _guest.Machine.Memory.Write(first.Address + 64, drawn.AsSpan(64, 64));
        _guest.Machine.Memory.Write(second.Address + (2 * 64), drawn.AsSpan(6 * 64, 64));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Transfer(5, 0, 6, 16, 1, 6 * 64)));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Flush(5, 4, 6, 8, 1)));

        (DisplayMode mode, byte[] pixels, DamageRect[] damage, _) = _sink.Frames[^1];
        Assert.Equal(new DisplayMode(16, 8, 64, PixelFormat.B8G8R8X8), mode);
        Assert.Equal([new DamageRect(4, 6, 8, 1)], damage);
        Assert.Equal(drawn.AsSpan((6 * 64) + 16, 32).ToArray(), pixels.AsSpan((6 * 64) + 16, 32).ToArray());
        // Outside the damage nothing was read: row 1 and the rest of row 6 are what the last full frame had.
        Assert.Equal(image.AsSpan(64, 64).ToArray(), pixels.AsSpan(64, 64).ToArray());
        Assert.Equal(image.AsSpan(6 * 64, 16).ToArray(), pixels.AsSpan(6 * 64, 16).ToArray());
    }

    [Fact]
    public void A_contiguous_guest_blob_is_published_straight_from_guest_memory()
    {
        // 8x4 shown from a 10x6 framebuffer with stride 48 at offset 16, source rect at (1, 1).
        const int Size = 16 + (48 * 6);
        GuestBuffer pages = _guest.Machine.AllocateBuffer(Size);
        byte[] blob = Pattern(Size, seed: 4);
        _guest.Machine.Memory.Write(pages.Address, blob);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(CreateBlob(9, Guest, Shareable, Size, entries: (pages.Address, Size))));
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(SetScanoutBlob(0, 9, (1, 1, 8, 4), 10, 6, XRGB, 48, 16)));

        // The frame is the guest's own framebuffer: its stride, starting at pixel (1, 1).
        Assert.Equal(new DisplayMode(8, 4, 48, PixelFormat.B8G8R8X8), _sink.Modes[^1]);
        int start = 16 + 48 + 4;
        Assert.Equal(blob.AsSpan(start, (3 * 48) + 32).ToArray(), _sink.Frames[^1].Pixels);

        _guest.Machine.Memory.Write(pages.Address + (ulong)start + 48, new byte[] { 0xAB, 0xCD, 0xEF, 0x01 });
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Flush(9, 1, 2, 1, 1)));
        Assert.Equal([new DamageRect(0, 1, 1, 1)], _sink.Frames[^1].Damage);
        Assert.Equal(new byte[] { 0xAB, 0xCD, 0xEF, 0x01 }, _sink.Frames[^1].Pixels.AsSpan(48, 4).ToArray());

        // A flush outside the shown rect publishes nothing; unref disables the scanout.
        int frames = _sink.Frames.Count;
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Flush(9, 9, 5, 1, 1)));
        Assert.Equal(frames, _sink.Frames.Count);
        Assert.Equal(GpuGuest.OkNoData, _guest.SendType(Unref(9)));
        Assert.Equal(GpuGuest.ErrInvalidResourceId, _guest.SendType(Flush(9, 0, 0, 1, 1)));
    }

    [Fact]
    public void A_reconnected_sink_gets_the_blob_scanout_in_full()
    {
        GuestBuffer first = _guest.Machine.AllocateBuffer(128);
        _guest.Machine.AllocateBuffer(4096);
        GuestBuffer second = _guest.Machine.AllocateBuffer(128);
        byte[] image = Pattern(256, seed: 6);
        _guest.Machine.Memory.Write(first.Address, image.AsSpan(0, 128));
        _guest.Machine.Memory.Write(second.Address, image.AsSpan(128));
        _guest.SendType(CreateBlob(3, Guest, Shareable, 256, entries: [(first.Address, 128), (second.Address, 128)]));
        _guest.SendType(SetScanoutBlob(0, 3, (0, 0, 16, 4), 16, 4, XRGB, 64, 0));

        var late = new CapturingSink();
        _guest.Device.Connect(late);
        _guest.SendType(GetDisplayInfo());
        Assert.Equal(new DisplayMode(16, 4, 64, PixelFormat.B8G8R8X8), Assert.Single(late.Modes));
        Assert.Equal(image, Assert.Single(late.Frames).Pixels);
    }

    [Fact]
    public void A_cursor_from_a_dumb_blob_is_its_first_64x64_pixels()
    {
        const int Bytes = 64 * 64 * 4;
        GuestBuffer pages = _guest.Machine.AllocateBuffer(Bytes);
        byte[] image = Pattern(Bytes, seed: 8);
        _guest.Machine.Memory.Write(pages.Address, image);
        _guest.SendType(CreateBlob(4, Guest, Shareable, Bytes, entries: (pages.Address, Bytes)));
        _guest.SendCursor(Cursor(0x0300, 0, 10, 20, 4, 3, 5));
        CursorShape shape = Assert.Single(_sink.Shapes);
        Assert.Equal((64, 64, 3, 5), (shape.Width, shape.Height, shape.HotX, shape.HotY));
        Assert.Equal(image, shape.Pixels.ToArray());
    }

    internal static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
