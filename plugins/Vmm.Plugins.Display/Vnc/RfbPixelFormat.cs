using System.Buffers.Binary;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// An RFB PIXEL_FORMAT (RFC 6143 §7.4): how the client wants pixels. Converts B8G8R8X8 rows into it, with the
/// common 32-bit little-endian B,G,R layout as a plain copy.
/// </summary>
internal readonly record struct RfbPixelFormat(
    byte BitsPerPixel, byte Depth, bool BigEndian, bool TrueColour,
    ushort RedMax, ushort GreenMax, ushort BlueMax, byte RedShift, byte GreenShift, byte BlueShift)
{
    public const int Size = 16;

    /// <summary>What the server announces: 32 bpp, depth 24, little-endian, red at 16, green at 8, blue at 0.</summary>
    public static RfbPixelFormat Default => new(32, 24, false, true, 255, 255, 255, 16, 8, 0);

    public int BytesPerPixel => BitsPerPixel / 8;

    /// <summary>Whether B8G8R8X8 bytes already are this format.</summary>
    public bool IsBgrx => BitsPerPixel == 32 && !BigEndian && TrueColour && RedMax == 255 && GreenMax == 255 && BlueMax == 255
        && RedShift == 16 && GreenShift == 8 && BlueShift == 0;

    public static RfbPixelFormat Read(ReadOnlySpan<byte> s) => new(
        s[0], s[1], s[2] != 0, s[3] != 0,
        BinaryPrimitives.ReadUInt16BigEndian(s[4..]), BinaryPrimitives.ReadUInt16BigEndian(s[6..]), BinaryPrimitives.ReadUInt16BigEndian(s[8..]),
        s[10], s[11], s[12]);

    public void Write(Span<byte> d)
    {
        d[..Size].Clear();
        d[0] = BitsPerPixel;
        d[1] = Depth;
        d[2] = BigEndian ? (byte)1 : (byte)0;
        d[3] = TrueColour ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], RedMax);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], GreenMax);
        BinaryPrimitives.WriteUInt16BigEndian(d[8..], BlueMax);
        d[10] = RedShift;
        d[11] = GreenShift;
        d[12] = BlueShift;
    }

    /// <summary>Whether the server can produce this format (true colour, 8/16/32 bpp).</summary>
    public bool IsSupported => TrueColour && BitsPerPixel is 8 or 16 or 32 && RedMax > 0 && GreenMax > 0 && BlueMax > 0
        && RedShift < BitsPerPixel && GreenShift < BitsPerPixel && BlueShift < BitsPerPixel;

    /// <summary>
    /// The compact pixel of ZRLE (RFC 6143 §7.7.6): 3 bytes when 32 bpp true colour of depth at most 24 fits in the
    /// low or high three bytes; returns the size and the byte offset within a full pixel.
    /// </summary>
    public (int Size, int Offset) CompactPixel
    {
        get
        {
            if (BitsPerPixel == 32 && Depth <= 24 && TrueColour)
            {
                uint mask = ((uint)RedMax << RedShift) | ((uint)GreenMax << GreenShift) | ((uint)BlueMax << BlueShift);
                if ((mask & 0xFF00_0000) == 0)
                {
                    return (3, BigEndian ? 1 : 0);
                }

                if ((mask & 0xFF) == 0)
                {
                    return (3, BigEndian ? 0 : 1);
                }
            }

            return (BytesPerPixel, 0);
        }
    }

    /// <summary>Converts <paramref name="count"/> B8G8R8X8 pixels.</summary>
    public void Convert(ReadOnlySpan<byte> bgrx, int count, Span<byte> destination)
    {
        if (IsBgrx)
        {
            bgrx[..(count * 4)].CopyTo(destination);
            return;
        }

        int size = BytesPerPixel;
        for (int i = 0; i < count; i++)
        {
            uint value = Pack(bgrx[(i * 4) + 2], bgrx[(i * 4) + 1], bgrx[i * 4]);
            Span<byte> d = destination.Slice(i * size, size);
            switch (size)
            {
                case 1:
                    d[0] = (byte)value;
                    break;
                case 2:
                    if (BigEndian)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)value);
                    }

                    break;
                default:
                    if (BigEndian)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(d, value);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(d, value);
                    }

                    break;
            }
        }
    }

    private uint Pack(byte red, byte green, byte blue)
        => ((uint)((red * RedMax) + 127) / 255 << RedShift)
        | ((uint)((green * GreenMax) + 127) / 255 << GreenShift)
        | ((uint)((blue * BlueMax) + 127) / 255 << BlueShift);
}
