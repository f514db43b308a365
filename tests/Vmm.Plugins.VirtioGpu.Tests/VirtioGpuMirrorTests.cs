using Vmm.Contracts.Display;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// A 2D resource whose backing is one contiguous range laid out as the resource is shown straight from that backing
/// (<c>mirrorBacking</c>): TRANSFER_TO_HOST_2D with Linux's offsets copies nothing, a flush shows the backing as it is
/// then; odd offsets and DETACH_BACKING fall back to the host copy, keeping what the guest showed. Backing split
/// over several ranges: <see cref="VirtioGpuScatteredMirrorTests"/>.
/// </summary>
public sealed class VirtioGpuMirrorTests
{
    private const int Width = 16;
    private const int Height = 8;
    private const int Bytes = Width * Height * 4;

    [Fact]
    public void A_mirrored_resource_publishes_the_backing_as_it_is_at_the_flush()
    {
        (GpuGuest guest, CapturingSink sink, ulong backing, byte[] image) = ShowOneRange();
        using (guest)
        {
            // Changed after the transfer, before the flush: a mirror shows what the backing holds at the flush.
            image.AsSpan(Width * 4 * 2, Width * 4).Fill(0x5A);
            guest.Machine.Memory.Write(backing, image);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 2, Width, 1, Width * 4 * 2)));
            image.AsSpan(Width * 4 * 2, 4).Fill(0x11);
            guest.Machine.Memory.Write(backing, image);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 2, Width, 1)));

            Assert.Equal(image, sink.Frames[^1].Pixels);
            Assert.Equal([new DamageRect(0, 2, Width, 1)], sink.Frames[^1].Damage);
        }
    }

    [Fact]
    public void Without_mirroring_the_resource_changes_only_on_transfer()
    {
        (GpuGuest guest, CapturingSink sink, ulong backing, byte[] image) = ShowOneRange(new VirtioGpuOptions { MirrorBacking = false });
        using (guest)
        {
            byte[] transferred = (byte[])image.Clone();
            image.AsSpan(0, Width * 4).Fill(0x77);
            guest.Machine.Memory.Write(backing, image);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

            Assert.Equal(transferred, sink.Frames[^1].Pixels);
        }
    }

    [Fact]
    public void An_odd_transfer_offset_ends_the_mirror_and_copies_as_the_spec_says()
    {
        (GpuGuest guest, CapturingSink sink, ulong backing, byte[] image) = ShowOneRange();
        using (guest)
        {
            // Row 0 of the backing into row 3 of the resource: the resource keeps a host copy from now on.
            image.AsSpan(0, Width * 4).Fill(0x42);
            guest.Machine.Memory.Write(backing, image);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 3, Width, 1, 0)));
            byte[] expected = (byte[])image.Clone();
            image.AsSpan(0, Width * 4).CopyTo(expected.AsSpan(Width * 4 * 3));
            guest.Machine.Memory.Write(backing, new byte[Bytes]);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

            Assert.Equal(expected, sink.Frames[^1].Pixels);
        }
    }

    [Fact]
    public void Detaching_the_backing_keeps_what_it_showed()
    {
        (GpuGuest guest, CapturingSink sink, ulong backing, byte[] image) = ShowOneRange();
        using (guest)
        {
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(DetachBacking(1)));
            // The guest reuses the pages: the resource must not follow them.
            guest.Machine.Memory.Write(backing, new byte[Bytes]);
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

            Assert.Equal(image, sink.Frames[^1].Pixels);
        }
    }

    [Fact]
    public void A_backing_shorter_than_the_resource_is_not_mirrored()
    {
        using var guest = new GpuGuest();
        var sink = new CapturingSink();
        guest.Device.Connect(sink);
        byte[] image = Pattern();
        ulong backing = guest.Machine.Allocator.Allocate(Bytes, 4096);
        guest.Machine.Memory.Write(backing, image);
        guest.SendType(Create2D(1, 2, Width, Height));
        // Half the rows: transfers of those rows work; the rest of the resource stays the host's zeros.
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(AttachBacking(1, (backing, Bytes / 2))));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 0, Width, Height / 2, 0)));
        guest.SendType(SetScanout(0, 1, 0, 0, Width, Height));

        byte[] expected = new byte[Bytes];
        image.AsSpan(0, Bytes / 2).CopyTo(expected);
        Assert.Equal(expected, sink.Frames[^1].Pixels);
    }

    /// <summary>A 16x8 resource over one backing range, transferred and shown.</summary>
    private static (GpuGuest Guest, CapturingSink Sink, ulong Backing, byte[] Image) ShowOneRange(VirtioGpuOptions? options = null)
    {
        var guest = new GpuGuest(options);
        var sink = new CapturingSink();
        guest.Device.Connect(sink);
        byte[] image = Pattern();
        ulong backing = guest.Machine.Allocator.Allocate(Bytes, 4096);
        guest.Machine.Memory.Write(backing, image);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, Width, Height)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(AttachBacking(1, (backing, Bytes))));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 0, Width, Height, 0)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanout(0, 1, 0, 0, Width, Height)));
        Assert.Equal(image, sink.Frames[^1].Pixels);
        return (guest, sink, backing, image);
    }

    private static byte[] Pattern()
    {
        byte[] image = new byte[Bytes];
        for (int i = 0; i < image.Length; i++)
        {
            image[i] = (byte)((i * 7) + 3);
        }

        return image;
    }
}
