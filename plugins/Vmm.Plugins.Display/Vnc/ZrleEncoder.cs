using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// ZRLE (RFC 6143 §7.7.6): 64x64 tiles, each solid (one compact pixel), packed palette (2 to 16 colours: the palette,
/// then 1, 2 or 4 bits a pixel, rows padded to a byte) or raw compact pixels, through one zlib stream that lives as
/// long as the connection and is sync-flushed after each rectangle. Text and flat UI tiles take the palette form: a
/// sixth to a twenty-fourth of the raw bytes, which zlib then has that much less to compress.
/// </summary>
internal sealed class ZrleEncoder : IDisposable
{
    private const int TileSize = 64;
    private const int MaxPalette = 16;

    private readonly MemoryStream _compressed = new();
    private readonly ZLibStream _zlib;
    private readonly byte[] _tile = new byte[1 + (TileSize * TileSize * 4)];
    private readonly byte[] _row = new byte[TileSize * 4];
    private readonly uint[] _palette = new uint[MaxPalette];
    private readonly byte[] _indices = new byte[TileSize * TileSize];

    public ZrleEncoder()
    {
        _zlib = new ZLibStream(_compressed, CompressionLevel.Fastest, leaveOpen: true);
    }

    /// <summary>Appends the rectangle's ZRLE data (u32 length, zlib bytes) to <paramref name="output"/>.</summary>
    public void Encode(SinkFramebuffer framebuffer, DamageRect rect, RfbPixelFormat format, Stream output)
    {
        _compressed.SetLength(0);
        (int cpixelSize, int cpixelOffset) = format.CompactPixel;
        int pixelSize = format.BytesPerPixel;
        ReadOnlySpan<byte> pixels = framebuffer.Pixels;
        int stride = framebuffer.Stride;
        for (int ty = rect.Y; ty < rect.Y + rect.Height; ty += TileSize)
        {
            int th = Math.Min(TileSize, rect.Y + rect.Height - ty);
            for (int tx = rect.X; tx < rect.X + rect.Width; tx += TileSize)
            {
                int tw = Math.Min(TileSize, rect.X + rect.Width - tx);
                int length;
                int colours = CountColours(pixels, stride, tx, ty, tw, th);
                if (colours == 1)
                {
                    _tile[0] = 1;
                    format.Convert(pixels.Slice((ty * stride) + (tx * 4), 4), 1, _row);
                    _row.AsSpan(cpixelOffset, cpixelSize).CopyTo(_tile.AsSpan(1));
                    length = 1 + cpixelSize;
                }
                else if (colours <= MaxPalette)
                {
                    length = WritePaletteTile(colours, tw, th, format, cpixelSize, cpixelOffset);
                }
                else
                {
                    _tile[0] = 0;
                    length = 1;
                    for (int y = ty; y < ty + th; y++)
                    {
                        format.Convert(pixels.Slice((y * stride) + (tx * 4), tw * 4), tw, _row);
                        if (cpixelSize == pixelSize)
                        {
                            _row.AsSpan(0, tw * pixelSize).CopyTo(_tile.AsSpan(length));
                            length += tw * pixelSize;
                        }
                        else
                        {
                            for (int x = 0; x < tw; x++)
                            {
                                _row.AsSpan((x * pixelSize) + cpixelOffset, cpixelSize).CopyTo(_tile.AsSpan(length));
                                length += cpixelSize;
                            }
                        }
                    }
                }

                _zlib.Write(_tile, 0, length);
            }
        }

        _zlib.Flush();
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)_compressed.Length);
        output.Write(prefix);
        output.Write(_compressed.GetBuffer(), 0, (int)_compressed.Length);
    }

    public void Dispose()
    {
        _zlib.Dispose();
        _compressed.Dispose();
    }

    /// <summary>
    /// The tile's distinct colours (B, G, R; the fourth byte ignored) into <c>_palette</c> and each pixel's index into
    /// <c>_indices</c>; stops at <see cref="MaxPalette"/> + 1 (the tile then goes raw).
    /// </summary>
    private int CountColours(ReadOnlySpan<byte> pixels, int stride, int x0, int y0, int width, int height)
    {
        int count = 0;
        int index = 0;
        uint last = 0;
        int lastIndex = -1;
        for (int y = y0; y < y0 + height; y++)
        {
            ReadOnlySpan<uint> row = MemoryMarshal.Cast<byte, uint>(pixels.Slice((y * stride) + (x0 * 4), width * 4));
            foreach (uint value in row)
            {
                uint colour = value & 0x00FF_FFFF;
                if (colour != last || lastIndex < 0)
                {
                    lastIndex = Array.IndexOf(_palette, colour, 0, count);
                    if (lastIndex < 0)
                    {
                        if (count == MaxPalette)
                        {
                            return MaxPalette + 1;
                        }

                        _palette[count] = colour;
                        lastIndex = count++;
                    }

                    last = colour;
                }

                _indices[index++] = (byte)lastIndex;
            }
        }

        return count;
    }

    /// <summary>A packed-palette tile (subencoding = palette size) into <c>_tile</c>; returns its length.</summary>
    private int WritePaletteTile(int colours, int width, int height, RfbPixelFormat format, int cpixelSize, int cpixelOffset)
    {
        _tile[0] = (byte)colours;
        int length = 1;
        Span<byte> bgrx = stackalloc byte[4];
        for (int i = 0; i < colours; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bgrx, _palette[i]);
            format.Convert(bgrx, 1, _row);
            _row.AsSpan(cpixelOffset, cpixelSize).CopyTo(_tile.AsSpan(length));
            length += cpixelSize;
        }

        int bits = colours == 2 ? 1 : colours <= 4 ? 2 : 4;
        int index = 0;
        for (int y = 0; y < height; y++)
        {
            int packed = 0, filled = 0;
            for (int x = 0; x < width; x++)
            {
                packed = (packed << bits) | _indices[index++];
                filled += bits;
                if (filled == 8)
                {
                    _tile[length++] = (byte)packed;
                    packed = 0;
                    filled = 0;
                }
            }

            if (filled > 0)
            {
                _tile[length++] = (byte)(packed << (8 - filled));
            }
        }

        return length;
    }
}
