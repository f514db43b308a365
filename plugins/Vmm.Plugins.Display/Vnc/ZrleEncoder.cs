using System.Buffers.Binary;
using System.IO.Compression;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// ZRLE (RFC 6143 §7.7.6): 64x64 tiles, each solid (one compact pixel) or raw compact pixels, through one zlib
/// stream that lives as long as the connection and is sync-flushed after each rectangle.
/// </summary>
internal sealed class ZrleEncoder : IDisposable
{
    private const int TileSize = 64;

    private readonly MemoryStream _compressed = new();
    private readonly ZLibStream _zlib;
    private readonly byte[] _tile = new byte[1 + (TileSize * TileSize * 4)];
    private readonly byte[] _row = new byte[TileSize * 4];

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
                if (IsSolid(pixels, stride, tx, ty, tw, th))
                {
                    _tile[0] = 1;
                    format.Convert(pixels.Slice((ty * stride) + (tx * 4), 4), 1, _row);
                    _row.AsSpan(cpixelOffset, cpixelSize).CopyTo(_tile.AsSpan(1));
                    length = 1 + cpixelSize;
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

    private static bool IsSolid(ReadOnlySpan<byte> pixels, int stride, int x0, int y0, int width, int height)
    {
        ReadOnlySpan<byte> first = pixels.Slice((y0 * stride) + (x0 * 4), 3);
        for (int y = y0; y < y0 + height; y++)
        {
            ReadOnlySpan<byte> row = pixels.Slice((y * stride) + (x0 * 4), width * 4);
            for (int x = 0; x < row.Length; x += 4)
            {
                if (row[x] != first[0] || row[x + 1] != first[1] || row[x + 2] != first[2])
                {
                    return false;
                }
            }
        }

        return true;
    }
}
