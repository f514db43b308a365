using Vmm.Contracts.Display;

namespace Vmm.Contracts.Tests.Display;

/// <summary>
/// <see cref="DisplayFrame.CopyRect"/> and <see cref="DisplayFrame.ReadRow"/>: a segmented frame reads exactly as the
/// same surface in one span, whatever the segments' boundaries (mid-row, mid-pixel, one byte long) and the rect.
/// </summary>
public sealed class DisplayFrameTests
{
    private const int Width = 13;
    private const int Height = 7;
    private const int Stride = (Width * 4) + 12;
    private static readonly DisplayMode s_mode = new(Width, Height, Stride, PixelFormat.B8G8R8X8);

    // The surface ends at the last pixel of the last row, not at the stride.
    private static readonly int s_surfaceBytes = ((Height - 1) * Stride) + (Width * 4);

    public static TheoryData<int[]> Cuts => new()
    {
        { [] },
        { [1, 2, 3, 64, 65, 200] },
        { [Stride / 2, Stride + 7, (2 * Stride) + 1, 300, 301, 302] },
        { [.. Enumerable.Range(1, 40).Select(i => i * 9)] },
    };

    public static TheoryData<int, int, int, int> Rects => new()
    {
        { 0, 0, Width, Height },
        { 0, 0, 1, 1 },
        { Width - 1, Height - 1, 1, 1 },
        { 0, Height - 1, Width, 1 },
        { Width - 3, 0, 3, Height },
        { 2, 1, 9, 5 },
        { 5, 3, 0, 2 },
    };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void Every_rect_copies_the_same_from_segments_as_from_one_span(int[] cuts)
    {
        byte[] surface = Surface();
        var segments = new Pieces(surface, cuts);
        for (int y = 0; y < Height; y++)
        {
            for (int h = 0; y + h <= Height; h++)
            {
                foreach ((int x, int w) in new[] { (0, Width), (0, 1), (3, 5), (Width - 2, 2), (1, Width - 1) })
                {
                    var rect = new DamageRect(x, y, w, h);
                    Assert.Equal(CopyOf(new DisplayFrame(s_mode, surface, [rect], 1), rect), CopyOf(new DisplayFrame(s_mode, segments, [rect], 1), rect));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Rects))]
    public void A_rect_lands_at_the_destination_stride_and_nothing_else_is_written(int x, int y, int w, int h)
    {
        byte[] surface = Surface();
        var rect = new DamageRect(x, y, w, h);
        var frame = new DisplayFrame(s_mode, new Pieces(surface, [5, Stride - 3, Stride + 1, (3 * Stride) + 2]), [rect], 1);
        const int DestinationStride = (Width * 4) + 8;
        byte[] destination = new byte[DestinationStride * Height];
        Array.Fill(destination, (byte)0xEE);

        frame.CopyRect(rect, destination, DestinationStride);

        byte[] expected = new byte[destination.Length];
        Array.Fill(expected, (byte)0xEE);
        for (int row = 0; row < h; row++)
        {
            surface.AsSpan(((y + row) * Stride) + (x * 4), w * 4).CopyTo(expected.AsSpan(row * DestinationStride));
        }

        Assert.Equal(expected, destination);
    }

    [Fact]
    public void Whole_rows_at_the_frame_stride_cross_every_segment_in_one_run()
    {
        const int Packed = Width * 4;
        var mode = new DisplayMode(Width, Height, Packed, PixelFormat.B8G8R8X8);
        byte[] surface = new byte[Packed * Height];
        new Random(3).NextBytes(surface);
        var pieces = new Pieces(surface, [.. Enumerable.Range(1, 20).Select(i => i * 17)]);
        byte[] destination = new byte[surface.Length];

        new DisplayFrame(mode, pieces, [], 1).CopyRect(new DamageRect(0, 0, Width, Height), destination, Packed);

        Assert.Equal(surface, destination);
        // One call per segment crossed, not one per row.
        Assert.Equal(21, pieces.Calls);
    }

    [Fact]
    public void ReadRow_returns_a_view_inside_one_segment_and_the_scratch_across_two()
    {
        byte[] surface = Surface();
        // Row 1 lies in the second segment whole; row 2 is cut in the middle.
        var frame = new DisplayFrame(s_mode, new Pieces(surface, [Stride, (2 * Stride) + 10]), [], 1);
        byte[] scratch = new byte[Width * 4];

        ReadOnlySpan<byte> inOne = frame.ReadRow(1, 1, Width - 1, scratch);
        ReadOnlySpan<byte> acrossTwo = frame.ReadRow(0, 2, Width, scratch);

        Assert.True(inOne.SequenceEqual(surface.AsSpan(Stride + 4, (Width - 1) * 4)));
        Assert.False(inOne.Overlaps(scratch));
        Assert.True(acrossTwo.SequenceEqual(surface.AsSpan(2 * Stride, Width * 4)));
        Assert.True(acrossTwo.Overlaps(scratch));
    }

    [Fact]
    public void A_segmented_frame_has_no_pixels_span()
    {
        var frame = new DisplayFrame(s_mode, new Pieces(Surface(), [10]), [], 7);

        Assert.True(frame.IsSegmented);
        Assert.True(frame.Pixels.IsEmpty);
        Assert.Equal(7UL, frame.Sequence);
        Assert.False(new DisplayFrame(s_mode, Surface(), [], 1).IsSegmented);
    }

    [Theory]
    [InlineData(-1, 0, 1, 1)]
    [InlineData(0, -1, 1, 1)]
    [InlineData(Width - 1, 0, 2, 1)]
    [InlineData(0, Height - 1, 1, 2)]
    [InlineData(0, 0, -1, 1)]
    public void A_rect_outside_the_surface_throws(int x, int y, int w, int h)
    {
        byte[] surface = Surface();
        byte[] destination = new byte[Stride * Height];

        Assert.Throws<ArgumentOutOfRangeException>(() => new DisplayFrame(s_mode, surface, [], 1).CopyRect(new DamageRect(x, y, w, h), destination, Stride));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DisplayFrame(s_mode, new Pieces(surface, [9]), [], 1).CopyRect(new DamageRect(x, y, w, h), destination, Stride));
    }

    [Fact]
    public void A_destination_too_short_throws_before_copying()
    {
        byte[] destination = new byte[(2 * Width * 4) - 1];

        Assert.Throws<ArgumentOutOfRangeException>(() => new DisplayFrame(s_mode, new Pieces(Surface(), [9]), [], 1).CopyRect(new DamageRect(0, 0, Width, 2), destination, Width * 4));
        Assert.All(destination, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Segments_that_hold_nothing_are_an_error_not_a_hang()
    {
        Assert.Throws<InvalidOperationException>(() => new DisplayFrame(s_mode, new Empty(), [], 1).CopyRect(new DamageRect(0, 0, 1, 1), new byte[4], 4));
    }

    [Fact]
    public void Reading_a_segmented_frame_allocates_nothing()
    {
        byte[] surface = Surface();
        var pieces = new Pieces(surface, [.. Enumerable.Range(1, 30).Select(i => i * 13)]);
        byte[] destination = new byte[Stride * Height];
        byte[] scratch = new byte[Width * 4];
        var rect = new DamageRect(1, 1, Width - 2, Height - 2);
        ReadAll(pieces, rect, destination, scratch);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ReadAll(pieces, rect, destination, scratch);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void ReadAll(Pieces pieces, DamageRect rect, byte[] destination, byte[] scratch)
        {
            var frame = new DisplayFrame(s_mode, pieces, [], 1);
            frame.CopyRect(rect, destination, Stride);
            _ = frame.ReadRow(0, 3, Width, scratch);
        }
    }

    private static byte[] CopyOf(DisplayFrame frame, DamageRect rect)
    {
        byte[] destination = new byte[Math.Max(1, rect.Width * 4 * rect.Height)];
        frame.CopyRect(rect, destination, rect.Width * 4);
        return destination;
    }

    private static byte[] Surface()
    {
        byte[] surface = new byte[s_surfaceBytes];
        for (int i = 0; i < surface.Length; i++)
        {
            surface[i] = (byte)((i * 31) + (i / 251));
        }

        return surface;
    }

    /// <summary>A surface cut at the given offsets into separate arrays.</summary>
    private sealed class Pieces : IDisplayFrameSegments
    {
        private readonly byte[][] _pieces;
        private readonly int[] _starts;

        public Pieces(byte[] surface, int[] cuts)
        {
            int[] bounds = [0, .. cuts.Where(c => c > 0 && c < surface.Length).Distinct().Order(), surface.Length];
            _starts = bounds[..^1];
            _pieces = [.. _starts.Select((start, i) => surface[start..bounds[i + 1]])];
        }

        public int Calls { get; private set; }

        public ReadOnlySpan<byte> GetSegment(int offset)
        {
            Calls++;
            int index = Array.BinarySearch(_starts, offset);
            index = index < 0 ? ~index - 1 : index;
            return _pieces[index].AsSpan(offset - _starts[index]);
        }
    }

    private sealed class Empty : IDisplayFrameSegments
    {
        public ReadOnlySpan<byte> GetSegment(int offset) => [];
    }
}
