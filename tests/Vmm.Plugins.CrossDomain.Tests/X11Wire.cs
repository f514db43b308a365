using System.Buffers.Binary;
using System.Text;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>The few X11 core-protocol messages the tests send, little-endian, from the X Window System Protocol spec.</summary>
internal static class X11Wire
{
    /// <summary>Connection setup: byte order 'l', protocol 11.0, no authorization (12 bytes).</summary>
    public static byte[] ConnectionSetup()
    {
        byte[] setup = new byte[12];
        setup[0] = (byte)'l';
        BinaryPrimitives.WriteUInt16LittleEndian(setup.AsSpan(2), 11);
        return setup;
    }

    /// <summary>The length of the setup reply whose first 8 bytes are <paramref name="header"/>.</summary>
    public static int SetupReplyLength(ReadOnlySpan<byte> header) => 8 + (4 * BinaryPrimitives.ReadUInt16LittleEndian(header[6..]));

    /// <summary>Resource-id base and the first screen's root window and root visual from a successful setup reply.</summary>
    public static (uint IdBase, uint Root, uint RootVisual, ushort Width, ushort Height) ParseSetup(ReadOnlySpan<byte> reply)
    {
        Assert.Equal(1, reply[0]);
        uint idBase = U32(reply, 12);
        int vendorLength = BinaryPrimitives.ReadUInt16LittleEndian(reply[24..]);
        int formats = reply[29];
        int screen = 40 + ((vendorLength + 3) & ~3) + (8 * formats);
        return (idBase, U32(reply, screen), U32(reply, screen + 32),
            BinaryPrimitives.ReadUInt16LittleEndian(reply[(screen + 20)..]), BinaryPrimitives.ReadUInt16LittleEndian(reply[(screen + 22)..]));
    }

    /// <summary>QueryExtension (opcode 98).</summary>
    public static byte[] QueryExtension(string name)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name);
        byte[] request = new byte[8 + ((nameBytes.Length + 3) & ~3)];
        request[0] = 98;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), (ushort)(request.Length / 4));
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(4), (ushort)nameBytes.Length);
        nameBytes.CopyTo(request, 8);
        return request;
    }

    /// <summary>CreateWindow (opcode 1): InputOutput, CopyFromParent depth and visual, no values.</summary>
    public static byte[] CreateWindow(uint window, uint parent, short x, short y, ushort width, ushort height)
    {
        byte[] request = new byte[32];
        request[0] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 8);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), window);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(8), parent);
        BinaryPrimitives.WriteInt16LittleEndian(request.AsSpan(12), x);
        BinaryPrimitives.WriteInt16LittleEndian(request.AsSpan(14), y);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(16), width);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(18), height);
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(22), 1);
        return request;
    }

    /// <summary>MapWindow (8) or GetGeometry (14): opcode, length 2, one id.</summary>
    public static byte[] OneId(byte opcode, uint id)
    {
        byte[] request = new byte[8];
        request[0] = opcode;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), id);
        return request;
    }

    public static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    public static ushort U16(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]);
}
