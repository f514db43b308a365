using System.Buffers.Binary;
using System.IO.Compression;

namespace Vmm.Plugins.Display.Png;

/// <summary>Writes 8-bit RGB PNGs (ISO/IEC 15948): IHDR, one IDAT of zlib data with filter "none", IEND.</summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes a B8G8R8X8 image of <paramref name="width"/> x <paramref name="height"/> to PNG bytes.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> bgrx, int width, int height, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour (RGB)
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR"u8, header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            byte[] row = new byte[1 + (width * 3)];
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> source = bgrx.Slice(y * stride, width * 4);
                row[0] = 0; // filter: none
                for (int x = 0; x < width; x++)
                {
                    row[1 + (x * 3)] = source[(x * 4) + 2];
                    row[2 + (x * 3)] = source[(x * 4) + 1];
                    row[3 + (x * 3)] = source[x * 4];
                }

                zlib.Write(row);
            }
        }

        WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        uint crc = Crc32.Update(Crc32.Update(0, type), data);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }
}
