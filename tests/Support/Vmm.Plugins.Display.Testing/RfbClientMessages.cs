using System.Buffers.Binary;

namespace Vmm.Plugins.Display.Testing;

/// <summary>
/// The RFB client-to-server messages (RFC 6143 section 7.5) our own RFB clients send, encoded in one place: the
/// display tests' client and the VNC bench's. All multi-byte fields are big-endian.
/// </summary>
public static class RfbClientMessages
{
    public const int FramebufferUpdateRequestLength = 10;

    /// <summary>SetPixelFormat (type 0, 20 bytes): true colour, little-endian pixels, the given depth, maxima and shifts.</summary>
    public static byte[] SetPixelFormat(byte bitsPerPixel, byte depth, (ushort Red, ushort Green, ushort Blue) max, (byte Red, byte Green, byte Blue) shift)
    {
        byte[] message = new byte[20]; // type 0, 3 padding, then the 16-byte PIXEL_FORMAT
        message[4] = bitsPerPixel;
        message[5] = depth;
        message[6] = 0; // big-endian-flag: little-endian pixels
        message[7] = 1; // true-colour-flag
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), max.Red);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), max.Green);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(12), max.Blue);
        message[14] = shift.Red;
        message[15] = shift.Green;
        message[16] = shift.Blue;
        return message;
    }

    /// <summary>32-bit B,G,R,X little-endian pixels, depth 24: the format our clients decode into.</summary>
    public static byte[] SetPixelFormatBgrx32() => SetPixelFormat(32, 24, (255, 255, 255), (16, 8, 0));

    /// <summary>SetEncodings (type 2): the encodings in the client's order of preference.</summary>
    public static byte[] SetEncodings(ReadOnlySpan<int> encodings)
    {
        byte[] message = new byte[4 + (4 * encodings.Length)];
        message[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)encodings.Length);
        for (int i = 0; i < encodings.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4 + (4 * i)), encodings[i]);
        }

        return message;
    }

    /// <summary>FramebufferUpdateRequest (type 3) for the area from the origin, written into <paramref name="message"/> (no allocation: benches send it per frame).</summary>
    public static void WriteFramebufferUpdateRequest(Span<byte> message, bool incremental, ushort width, ushort height)
    {
        message[..FramebufferUpdateRequestLength].Clear();
        message[0] = 3;
        message[1] = incremental ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], width);
        BinaryPrimitives.WriteUInt16BigEndian(message[8..], height);
    }

    /// <summary>KeyEvent (type 4).</summary>
    public static byte[] KeyEvent(bool down, uint keysym)
    {
        byte[] message = new byte[8];
        message[0] = 4;
        message[1] = down ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), keysym);
        return message;
    }

    /// <summary>PointerEvent (type 5): the button mask and position.</summary>
    public static byte[] PointerEvent(byte buttons, ushort x, ushort y)
    {
        byte[] message = new byte[6];
        message[0] = 5;
        message[1] = buttons;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), x);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), y);
        return message;
    }
}
