using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Display;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// A guest blob on SET_SCANOUT_BLOB whose pages are several guest ranges (Linux's shmem dumb buffers): a sink that
/// takes segmented frames gets the guest's runs as segments (one copy, the sink's), at the framebuffer's own stride;
/// any other sink gets the damage gathered into a shadow at that stride. A host blob, which segments cannot
/// describe, is still shown from its packed shadow.
/// </summary>
public sealed class VirtioGpuScatteredBlobScanoutTests
{
    private const uint BlobMemGuest = 1;
    private const uint BlobMemHost3D = 2;
    private const uint Shareable = 2;
    private const uint XRGB = 2;
    private const uint Id = 7;
    private const int Width = 16;
    private const int Height = 8;

    // Padded rows at an offset into the blob; 100-byte runs, so cuts fall mid-row and mid-pixel.
    private const int Stride = 72;
    private const int Offset = 8;
    private const int BlobBytes = Offset + (Stride * Height);
    private const int RunBytes = 100;

    [Fact]
    public void A_segment_sink_gets_segments_over_the_blob_pages_as_they_are_at_the_flush()
    {
        using var blob = ScatteredBlob.Show(segments: true);
        CapturingSink sink = blob.Sink;
        Assert.Equal(new DisplayMode(Width, Height, Stride, PixelFormat.B8G8R8X8), sink.Modes[^1]);
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
        Assert.Equal([new DamageRect(0, 0, Width, Height)], sink.Frames[^1].Damage);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, Height));

        // Linux's transfer (nothing copied) and flush of a rect; the frame carries that damage, over the new bytes.
        blob.Paint(new DamageRect(3, 2, 9, 4), 0x5A);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Transfer(Id, 3, 2, 9, 4, Offset + (2 * Stride) + 12)));
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 3, 2, 9, 4)));

        Assert.Equal([new DamageRect(3, 2, 9, 4)], sink.Frames[^1].Damage);
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, Height));
        Assert.Empty(sink.Frames.Select(f => f.Sequence).Except(sink.SegmentedSequences));
    }

    [Fact]
    public void Part_of_the_framebuffer_is_segmented_from_its_first_pixel_and_the_flush_is_clipped_to_it()
    {
        using var blob = ScatteredBlob.Show(segments: true, shown: (2, 1, 10, 5));
        CapturingSink sink = blob.Sink;
        Assert.Equal(new DisplayMode(10, 5, Stride, PixelFormat.B8G8R8X8), sink.Modes[^1]);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, 10, 5));

        // A flush of framebuffer rows 0-2, columns 0-5: what lies in the shown rect, in scanout coordinates.
        blob.Paint(new DamageRect(0, 0, 6, 3), 0x11);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 0, 0, 6, 3)));

        Assert.Equal([new DamageRect(0, 0, 4, 2)], sink.Frames[^1].Damage);
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, 10, 5));
    }

    [Fact]
    public void An_older_sink_gets_the_damage_gathered_into_a_shadow_at_the_framebuffer_stride()
    {
        using var blob = ScatteredBlob.Show(segments: false);
        CapturingSink sink = blob.Sink;
        Assert.Equal(new DisplayMode(Width, Height, Stride, PixelFormat.B8G8R8X8), sink.Modes[^1]);
        Assert.Empty(sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, Height));

        // Drawn inside and outside the flushed rect: only the flushed part is read into what the sink is shown.
        byte[] before = (byte[])blob.Bytes.Clone();
        blob.Paint(new DamageRect(0, 0, Width, 1), 0x21);
        blob.Paint(new DamageRect(5, 4, 7, 3), 0x42);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 5, 4, 7, 3)));

        Assert.Equal([new DamageRect(5, 4, 7, 3)], sink.Frames[^1].Damage);
        Assert.Empty(sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(5, 4, 7, 3));
        ScatteredBlob.AssertShown(before, sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, 1));
    }

    [Fact]
    public void A_sink_that_stops_taking_segments_gets_the_whole_blob_gathered_once()
    {
        using var blob = ScatteredBlob.Show(segments: true);
        CapturingSink sink = blob.Sink;
        blob.Paint(new DamageRect(0, 0, Width, Height / 2), 0x33);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 0, 0, Width, Height / 2)));
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);

        // As the display router answers once a sink that takes no segments is attached: the segmented frames skipped
        // the shadow, so it is gathered whole before a frame goes out from it, then only the damage again.
        sink.AcceptsSegmentedFrames = false;
        blob.Paint(new DamageRect(1, 6, 2, 1), 0x44);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 1, 6, 2, 1)));
        Assert.DoesNotContain(sink.Frames[^1].Sequence, sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, Height));

        byte[] before = (byte[])blob.Bytes.Clone();
        blob.Paint(new DamageRect(0, 0, Width, Height), 0x55);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 4, 4, 2, 2)));
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(4, 4, 2, 2));
        ScatteredBlob.AssertShown(before, sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, 4));
    }

    [Fact]
    public void A_reconnected_older_sink_gets_the_whole_blob()
    {
        using var blob = ScatteredBlob.Show(segments: true);
        blob.Paint(new DamageRect(2, 2, 4, 4), 0x66);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 2, 2, 4, 4)));

        var older = new CapturingSink();
        blob.Guest.Device.Connect(older);
        blob.Guest.SendType(GetDisplayInfo());

        Assert.Equal(new DisplayMode(Width, Height, Stride, PixelFormat.B8G8R8X8), Assert.Single(older.Modes));
        blob.AssertShown(Assert.Single(older.Frames).Pixels, new DamageRect(0, 0, Width, Height));
        Assert.Empty(older.SegmentedSequences);
    }

    [Fact]
    public void Unref_while_shown_disables_the_scanout_so_no_later_frame_reads_the_freed_pages()
    {
        using var blob = ScatteredBlob.Show(segments: true);
        CapturingSink sink = blob.Sink;

        // Blobs take no DETACH_BACKING: the scanout keeps showing the pages in segments.
        Assert.Equal(GpuGuest.ErrUnspecified, blob.Guest.SendType(DetachBacking(Id)));
        blob.Paint(new DamageRect(0, 7, Width, 1), 0x71);
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Flush(Id, 0, 7, Width, 1)));
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
        blob.AssertShown(sink.Frames[^1].Pixels, new DamageRect(0, 0, Width, Height));

        int frames = sink.Frames.Count;
        Assert.Equal(GpuGuest.OkNoData, blob.Guest.SendType(Unref(Id)));
        blob.Paint(new DamageRect(0, 0, Width, Height), 0x99);
        Assert.Equal(GpuGuest.ErrInvalidResourceId, blob.Guest.SendType(Flush(Id, 0, 0, Width, Height)));

        // A sink connected now gets no frame either: the scanout is off, nothing points at the pages.
        var late = new CapturingSink { AcceptsSegmentedFrames = true };
        blob.Guest.Device.Connect(late);
        blob.Guest.SendType(GetDisplayInfo());
        Assert.Equal(frames, sink.Frames.Count);
        Assert.Empty(late.Frames);
    }

    [Fact]
    public void A_host_blob_segments_cannot_describe_is_shown_from_its_packed_shadow()
    {
        var type = new BlobContextType();
        using var host = new MemfdBlob(8192);
        using ServiceProvider services = new ServiceCollection().AddSingleton<Vmm.Contracts.Gpu.IGpuContextType>(type).BuildServiceProvider();
        using var guest = new GpuGuest(services: services);
        type.Blobs[3] = host;
        var sink = new CapturingSink { AcceptsSegmentedFrames = true };
        guest.Device.Connect(sink);
        VirtioGpuBlobScanoutTests.Pattern(BlobBytes, seed: 9).CopyTo(host.Bytes);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(CreateContext(2, capset: 5)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(CreateBlob(Id, BlobMemHost3D, 0, 8192, blobId: 3, contextId: 2)));

        Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanoutBlob(0, Id, (2, 1, 10, 5), Width, Height, XRGB, Stride, Offset)));

        Assert.Equal(new DisplayMode(10, 5, 10 * 4, PixelFormat.B8G8R8X8), sink.Modes[^1]);
        Assert.Empty(sink.SegmentedSequences);
        Assert.Equal(Packed(host.Bytes, 2, 1, 10, 5), sink.Frames[^1].Pixels);

        host.Bytes.Slice(Offset + (3 * Stride) + (4 * 4), 8).Fill(0xEE);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(Id, 4, 3, 2, 1)));
        Assert.Equal([new DamageRect(2, 2, 2, 1)], sink.Frames[^1].Damage);
        Assert.Equal(Packed(host.Bytes, 2, 1, 10, 5), sink.Frames[^1].Pixels);
        Assert.Empty(sink.SegmentedSequences);

        static byte[] Packed(ReadOnlySpan<byte> bytes, int x, int y, int width, int height)
        {
            byte[] packed = new byte[width * height * 4];
            for (int row = 0; row < height; row++)
            {
                bytes.Slice(Offset + ((y + row) * Stride) + (x * 4), width * 4).CopyTo(packed.AsSpan(row * width * 4));
            }

            return packed;
        }
    }

    /// <summary>A guest blob over 100-byte runs with gaps between them, shown as a 16x8 framebuffer (stride 72, offset 8).</summary>
    private sealed class ScatteredBlob : IDisposable
    {
        private readonly (ulong Address, uint Length)[] _runs;
        private readonly (int X, int Y) _shownAt;

        private ScatteredBlob(GpuGuest guest, CapturingSink sink, (ulong, uint)[] runs, (int, int) shownAt)
        {
            (Guest, Sink, _runs, _shownAt) = (guest, sink, runs, shownAt);
            Bytes = VirtioGpuBlobScanoutTests.Pattern(BlobBytes, seed: 5);
        }

        public GpuGuest Guest { get; }

        public CapturingSink Sink { get; }

        /// <summary>What the blob holds, in blob order.</summary>
        public byte[] Bytes { get; }

        public static ScatteredBlob Show(bool segments, (uint X, uint Y, uint Width, uint Height)? shown = null)
        {
            var guest = new GpuGuest();
            var sink = new CapturingSink { AcceptsSegmentedFrames = segments };
            guest.Device.Connect(sink);
            var runs = new List<(ulong, uint)>();
            for (int offset = 0; offset < BlobBytes; offset += RunBytes)
            {
                int length = Math.Min(RunBytes, BlobBytes - offset);
                // A gap after every run, so no two runs are adjacent.
                runs.Add((guest.Machine.Allocator.Allocate((ulong)length + 64, 64), (uint)length));
            }

            (uint X, uint Y, uint Width, uint Height) rect = shown ?? (0, 0, Width, Height);
            var blob = new ScatteredBlob(guest, sink, [.. runs], ((int)rect.X, (int)rect.Y));
            blob.Write();
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(CreateBlob(Id, BlobMemGuest, Shareable, BlobBytes, entries: [.. runs])));
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanoutBlob(0, Id, rect, Width, Height, XRGB, Stride, Offset)));
            return blob;
        }

        /// <summary>Fills a rect of the framebuffer and writes the blob to its pages.</summary>
        public void Paint(DamageRect rect, byte value)
        {
            for (int y = rect.Y; y < rect.Y + rect.Height; y++)
            {
                Bytes.AsSpan(Offset + (y * Stride) + (rect.X * 4), rect.Width * 4).Fill(value);
            }

            Write();
        }

        /// <summary>Asserts that <paramref name="rect"/> (scanout coordinates) of a captured surface shows the blob as it is now.</summary>
        public void AssertShown(byte[] surface, DamageRect rect) => AssertShown(Bytes, surface, rect, _shownAt);

        /// <summary>Asserts that <paramref name="rect"/> of a captured full-framebuffer surface holds <paramref name="bytes"/>.</summary>
        public static void AssertShown(byte[] bytes, byte[] surface, DamageRect rect, (int X, int Y) shownAt = default)
        {
            for (int y = rect.Y; y < rect.Y + rect.Height; y++)
            {
                int from = Offset + ((shownAt.Y + y) * Stride) + ((shownAt.X + rect.X) * 4);
                Assert.Equal(bytes.AsSpan(from, rect.Width * 4).ToArray(), surface.AsSpan((y * Stride) + (rect.X * 4), rect.Width * 4).ToArray());
            }
        }

        public void Dispose() => Guest.Dispose();

        private void Write()
        {
            int offset = 0;
            foreach ((ulong address, uint length) in _runs)
            {
                Guest.Machine.Memory.Write(address, Bytes.AsSpan(offset, (int)length));
                offset += (int)length;
            }
        }
    }
}
