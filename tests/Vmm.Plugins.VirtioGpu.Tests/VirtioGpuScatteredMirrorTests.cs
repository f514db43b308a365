using Vmm.Contracts.Display;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// A 2D resource whose backing is laid out as the resource but split over guest ranges that do not follow each other
/// (Linux's shmem pages) is mirrored too: a sink that takes segmented frames gets the guest's runs as segments (one
/// copy, the sink's); an older sink gets the backing gathered into the host copy at the flush, all of it the first
/// time, then only the damage. Odd transfer offsets and DETACH_BACKING end the mirror as for one range.
/// </summary>
public sealed class VirtioGpuScatteredMirrorTests
{
    private const int Width = 16;
    private const int Height = 8;
    private const int Stride = Width * 4;
    private const int Bytes = Stride * Height;

    // 100-byte runs: cuts fall mid-row and mid-pixel.
    private const int RunBytes = 100;

    [Fact]
    public void A_segment_sink_gets_segments_over_the_backing_as_it_is_at_the_flush()
    {
        using var scattered = Scattered.Show(segments: true);
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);
        Assert.Equal(scattered.Image, sink.Frames[^1].Pixels);
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);

        // Written after the transfer, before the flush: the flush shows it (as the one-range mirror does).
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 3, 2, 9, 4, (2 * Stride) + 12)));
        scattered.Paint(new DamageRect(3, 2, 9, 4), 0x5A);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 3, 2, 9, 4)));

        Assert.Equal(scattered.Image, sink.Frames[^1].Pixels);
        Assert.Equal([new DamageRect(3, 2, 9, 4)], sink.Frames[^1].Damage);
        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
    }

    [Fact]
    public void An_older_sink_gets_whole_frames_gathered_at_the_flush_and_only_the_damage_after_the_first()
    {
        using var scattered = Scattered.Show(segments: false);
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);
        Assert.Equal(scattered.Image, sink.Frames[^1].Pixels);
        Assert.Empty(sink.SegmentedSequences);

        // Inside and outside the flushed rect: only the flushed part is gathered into what the sink is shown.
        byte[] before = (byte[])scattered.Image.Clone();
        scattered.Paint(new DamageRect(0, 0, Width, 1), 0x21);
        scattered.Paint(new DamageRect(5, 4, 7, 3), 0x42);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 5, 4, 7, 3, (4 * Stride) + 20)));
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 5, 4, 7, 3)));

        byte[] expected = (byte[])before.Clone();
        for (int y = 4; y < 7; y++)
        {
            scattered.Image.AsSpan((y * Stride) + 20, 7 * 4).CopyTo(expected.AsSpan((y * Stride) + 20));
        }

        Assert.Equal(expected, sink.Frames[^1].Pixels);
        Assert.Empty(sink.SegmentedSequences);
    }

    [Fact]
    public void An_older_sink_connected_after_segmented_frames_gets_the_whole_backing()
    {
        using var scattered = Scattered.Show(segments: true);
        GpuGuest guest = scattered.Guest;
        scattered.Paint(new DamageRect(0, 0, Width, Height / 2), 0x33);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height / 2)));

        var older = new CapturingSink();
        guest.Device.Connect(older);
        scattered.Paint(new DamageRect(1, 6, 2, 1), 0x44);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 1, 6, 2, 1)));

        // The segmented frames skipped the host copy: it is gathered whole before an older sink sees it.
        Assert.Equal(scattered.Image, older.Frames[^1].Pixels);
        Assert.Empty(older.SegmentedSequences);
    }

    [Fact]
    public void A_scanout_of_part_of_the_resource_is_segmented_from_its_first_pixel()
    {
        using var scattered = Scattered.Show(segments: true);
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);

        Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanout(0, 1, 3, 2, 10, 5)));

        Assert.Equal(new DisplayMode(10, 5, Stride, PixelFormat.B8G8R8X8), sink.Frames[^1].Mode);
        // Each shown row, from the resource's row 2 + y, column 3 (the sink copies the shown pixels, not the stride's rest).
        byte[] frame = sink.Frames[^1].Pixels;
        for (int y = 0; y < 5; y++)
        {
            Assert.Equal(scattered.Image.AsSpan(((2 + y) * Stride) + (3 * 4), 10 * 4).ToArray(), frame.AsSpan(y * Stride, 10 * 4).ToArray());
        }

        Assert.Contains(sink.Frames[^1].Sequence, sink.SegmentedSequences);
    }

    [Fact]
    public void An_odd_transfer_offset_ends_the_mirror_and_copies_as_the_spec_says()
    {
        using var scattered = Scattered.Show(segments: true);
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);
        scattered.Paint(new DamageRect(0, 0, Width, 1), 0x42);
        byte[] expected = (byte[])scattered.Image.Clone();
        scattered.Image.AsSpan(0, Stride).CopyTo(expected.AsSpan(3 * Stride));

        // Row 0 of the backing into row 3 of the resource; then the guest clears its pages.
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 3, Width, 1, 0)));
        scattered.Fill(0);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

        Assert.Equal(expected, sink.Frames[^1].Pixels);
        Assert.DoesNotContain(sink.Frames[^1].Sequence, sink.SegmentedSequences);
    }

    [Fact]
    public void Detaching_the_backing_keeps_what_it_showed()
    {
        using var scattered = Scattered.Show(segments: true);
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);
        scattered.Paint(new DamageRect(2, 2, 4, 4), 0x17);
        byte[] shown = (byte[])scattered.Image.Clone();

        Assert.Equal(GpuGuest.OkNoData, guest.SendType(DetachBacking(1)));
        scattered.Fill(0);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

        Assert.Equal(shown, sink.Frames[^1].Pixels);
        Assert.DoesNotContain(sink.Frames[^1].Sequence, sink.SegmentedSequences);
    }

    [Fact]
    public void Without_mirroring_scattered_backing_changes_only_on_transfer()
    {
        using var scattered = Scattered.Show(segments: true, new VirtioGpuOptions { MirrorBacking = false });
        (GpuGuest guest, CapturingSink sink) = (scattered.Guest, scattered.Sink);
        byte[] transferred = (byte[])scattered.Image.Clone();
        scattered.Fill(0x77);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Flush(1, 0, 0, Width, Height)));

        Assert.Equal(transferred, sink.Frames[^1].Pixels);
        Assert.Empty(sink.SegmentedSequences);
    }

    /// <summary>A 16x8 resource over 100-byte runs with gaps between them, transferred and shown.</summary>
    private sealed class Scattered : IDisposable
    {
        private readonly (ulong Address, uint Length)[] _runs;

        private Scattered(GpuGuest guest, CapturingSink sink, (ulong, uint)[] runs, byte[] image)
        {
            (Guest, Sink, _runs, Image) = (guest, sink, runs, image);
        }

        public GpuGuest Guest { get; }

        public CapturingSink Sink { get; }

        /// <summary>What the backing holds, in resource order.</summary>
        public byte[] Image { get; }

        public static Scattered Show(bool segments, VirtioGpuOptions? options = null)
        {
            var guest = new GpuGuest(options);
            var sink = new CapturingSink { AcceptsSegmentedFrames = segments };
            guest.Device.Connect(sink);
            byte[] image = new byte[Bytes];
            for (int i = 0; i < image.Length; i++)
            {
                image[i] = (byte)((i * 7) + 3);
            }

            var runs = new List<(ulong, uint)>();
            for (int offset = 0; offset < Bytes; offset += RunBytes)
            {
                int length = Math.Min(RunBytes, Bytes - offset);
                // A gap after every run, so no two runs are adjacent.
                runs.Add((guest.Machine.Allocator.Allocate((ulong)length + 64, 64), (uint)length));
            }

            var scattered = new Scattered(guest, sink, [.. runs], image);
            scattered.WriteImage();
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, Width, Height)));
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(AttachBacking(1, [.. runs])));
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(Transfer(1, 0, 0, Width, Height, 0)));
            Assert.Equal(GpuGuest.OkNoData, guest.SendType(SetScanout(0, 1, 0, 0, Width, Height)));
            return scattered;
        }

        /// <summary>Fills a rect of the image and writes the image to the backing.</summary>
        public void Paint(DamageRect rect, byte value)
        {
            for (int y = rect.Y; y < rect.Y + rect.Height; y++)
            {
                Image.AsSpan((y * Stride) + (rect.X * 4), rect.Width * 4).Fill(value);
            }

            WriteImage();
        }

        /// <summary>Overwrites the whole backing (the image stays as it was).</summary>
        public void Fill(byte value)
        {
            foreach ((ulong address, uint length) in _runs)
            {
                byte[] bytes = new byte[length];
                Array.Fill(bytes, value);
                Guest.Machine.Memory.Write(address, bytes);
            }
        }

        public void Dispose() => Guest.Dispose();

        private void WriteImage()
        {
            int offset = 0;
            foreach ((ulong address, uint length) in _runs)
            {
                Guest.Machine.Memory.Write(address, Image.AsSpan(offset, (int)length));
                offset += (int)length;
            }
        }
    }
}
