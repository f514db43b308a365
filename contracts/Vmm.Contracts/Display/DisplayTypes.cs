namespace Vmm.Contracts.Display;

/// <summary>The geometry and format of a display's frames.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Stride">Bytes from one row to the next.</param>
/// <param name="Format">The pixel format.</param>
public readonly record struct DisplayMode(int Width, int Height, int Stride, PixelFormat Format);

/// <summary>A changed rectangle of a frame, in pixels.</summary>
public readonly record struct DamageRect(int X, int Y, int Width, int Height);

/// <summary>A cursor position; <paramref name="Visible"/> false hides it.</summary>
public readonly record struct CursorPosition(int X, int Y, bool Visible);

/// <summary>A cursor image: B8G8R8A8 pixels, <c>Width * 4</c> bytes a row, and its hot spot.</summary>
public sealed record CursorShape(int Width, int Height, int HotX, int HotY, ReadOnlyMemory<byte> Pixels);

/// <summary>
/// A frame as a source publishes it: the whole surface and the rectangles that changed since the previous frame.
/// The pixels are only valid during the call: a sink copies the damaged rectangles it needs and returns.
/// </summary>
/// <remarks>
/// The surface is <c>(Height - 1) * Stride + Width * 4</c> bytes, pixel (0, 0) first. It comes either as one span
/// (<see cref="Pixels"/>) or, since contract 2.2, in segments (<see cref="Segments"/>: a guest's scattered pages,
/// shown without gathering them first). <see cref="CopyRect"/> and <see cref="ReadRow"/> read either kind, so a sink
/// that reads pixels only through them takes both; a source hands a segmented frame only to a sink that says it
/// takes them (<see cref="IDisplaySegmentedFrameSink"/>).
/// </remarks>
public readonly ref struct DisplayFrame
{
    private const int BytesPerPixel = 4;

    /// <summary>Creates a frame over one span holding the whole surface.</summary>
    public DisplayFrame(DisplayMode mode, ReadOnlySpan<byte> pixels, ReadOnlySpan<DamageRect> damage, ulong sequence)
    {
        Mode = mode;
        Pixels = pixels;
        Damage = damage;
        Sequence = sequence;
    }

    /// <summary>Creates a segmented frame: the surface is read through <paramref name="segments"/> (contract 2.2).</summary>
    public DisplayFrame(DisplayMode mode, IDisplayFrameSegments segments, ReadOnlySpan<DamageRect> damage, ulong sequence)
    {
        ArgumentNullException.ThrowIfNull(segments);
        Mode = mode;
        Segments = segments;
        Damage = damage;
        Sequence = sequence;
    }

    /// <summary>The frame's geometry and format.</summary>
    public DisplayMode Mode { get; }

    /// <summary>
    /// The whole surface, <see cref="DisplayMode.Stride"/> bytes a row; empty for a segmented frame
    /// (<see cref="IsSegmented"/>), whose bytes <see cref="CopyRect"/> and <see cref="ReadRow"/> read.
    /// </summary>
    public ReadOnlySpan<byte> Pixels { get; }

    /// <summary>What changed; clipped to the surface.</summary>
    public ReadOnlySpan<DamageRect> Damage { get; }

    /// <summary>A number that grows by one per published frame of a source.</summary>
    public ulong Sequence { get; }

    /// <summary>The surface's segments for a segmented frame, else null (contract 2.2).</summary>
    public IDisplayFrameSegments? Segments { get; }

    /// <summary>Whether the surface comes in segments rather than as <see cref="Pixels"/> (contract 2.2).</summary>
    public bool IsSegmented => Segments is not null;

    /// <summary>
    /// Copies the pixels of <paramref name="rect"/> (4 bytes each) into <paramref name="destination"/>, row
    /// <c>r</c> of the rect at <c>r * destinationStride</c>, from either kind of frame and without allocating
    /// (contract 2.2). Whole rows into a destination of the frame's stride are copied as one run.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rect is not inside the surface, or the destination is too short for it.</exception>
    public void CopyRect(DamageRect rect, Span<byte> destination, int destinationStride)
    {
        CheckRect(rect);
        if (rect.Width == 0 || rect.Height == 0)
        {
            return;
        }

        int rowBytes = rect.Width * BytesPerPixel;
        if (destinationStride < rowBytes || destination.Length < ((long)(rect.Height - 1) * destinationStride) + rowBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), $"{destination.Length} bytes at stride {destinationStride} cannot hold a {rect.Width}x{rect.Height} rect.");
        }

        int stride = Mode.Stride;
        int offset = (rect.Y * stride) + (rect.X * BytesPerPixel);
        bool oneRun = rowBytes == stride && destinationStride == stride;
        if (Segments is null)
        {
            ReadOnlySpan<byte> pixels = Pixels;
            if (oneRun)
            {
                pixels.Slice(offset, rect.Height * stride).CopyTo(destination);
                return;
            }

            for (int row = 0; row < rect.Height; row++)
            {
                pixels.Slice(offset + (row * stride), rowBytes).CopyTo(destination.Slice(row * destinationStride, rowBytes));
            }

            return;
        }

        var reader = new SegmentReader(Segments);
        if (oneRun)
        {
            reader.Copy(offset, destination[..(rect.Height * stride)]);
            return;
        }

        for (int row = 0; row < rect.Height; row++)
        {
            reader.Copy(offset + (row * stride), destination.Slice(row * destinationStride, rowBytes));
        }
    }

    /// <summary>
    /// The <paramref name="width"/> pixels of row <paramref name="y"/> from column <paramref name="x"/>: a view of the
    /// frame's own bytes where they are one span, else copied into <paramref name="scratch"/> (at least
    /// <c>width * 4</c> bytes), which is returned then (contract 2.2). For comparing or converting without a copy
    /// where none is needed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The row part is not inside the surface, or the scratch is too short.</exception>
    public ReadOnlySpan<byte> ReadRow(int x, int y, int width, Span<byte> scratch)
    {
        CheckRect(new DamageRect(x, y, width, 1));
        int rowBytes = width * BytesPerPixel;
        int offset = (y * Mode.Stride) + (x * BytesPerPixel);
        if (Segments is null)
        {
            return Pixels.Slice(offset, rowBytes);
        }

        if (rowBytes == 0)
        {
            return [];
        }

        ReadOnlySpan<byte> segment = Segments.GetSegment(offset);
        if (segment.Length >= rowBytes)
        {
            return segment[..rowBytes];
        }

        if (scratch.Length < rowBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(scratch), $"{scratch.Length} bytes cannot hold a row of {width} pixels.");
        }

        new SegmentReader(Segments).Copy(offset, scratch[..rowBytes]);
        return scratch[..rowBytes];
    }

    private void CheckRect(DamageRect rect)
    {
        if (rect.X < 0 || rect.Y < 0 || rect.Width < 0 || rect.Height < 0
            || rect.X > Mode.Width - rect.Width || rect.Y > Mode.Height - rect.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(rect), $"{rect} is not inside the {Mode.Width}x{Mode.Height} surface.");
        }
    }

    /// <summary>Walks a segmented surface, keeping the last segment so consecutive rows in it cost no further call.</summary>
    private ref struct SegmentReader(IDisplayFrameSegments segments)
    {
        private ReadOnlySpan<byte> _segment;
        private int _start;

        public void Copy(int offset, Span<byte> destination)
        {
            while (!destination.IsEmpty)
            {
                if (offset < _start || offset - _start >= _segment.Length)
                {
                    _segment = segments.GetSegment(offset);
                    _start = offset;
                    if (_segment.IsEmpty)
                    {
                        throw new InvalidOperationException($"The frame's segments hold no byte at offset {offset}.");
                    }
                }

                ReadOnlySpan<byte> from = _segment[(offset - _start)..];
                int n = Math.Min(from.Length, destination.Length);
                from[..n].CopyTo(destination);
                destination = destination[n..];
                offset += n;
            }
        }
    }
}
