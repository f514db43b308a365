using System.Buffers.Binary;

namespace Vmm.Contracts.Memory;

/// <summary>Little-endian scalar access to guest memory (virtio is little-endian).</summary>
public static class GuestMemoryExtensions
{
    /// <summary>Reads a byte.</summary>
    public static byte ReadByte(this IGuestMemory memory, ulong address) => memory.GetSpan(address, 1)[0];

    /// <summary>Reads a little-endian 16-bit value.</summary>
    public static ushort ReadUInt16(this IGuestMemory memory, ulong address)
    {
        Span<byte> buffer = stackalloc byte[2];
        memory.Read(address, buffer);
        return BinaryPrimitives.ReadUInt16LittleEndian(buffer);
    }

    /// <summary>Reads a little-endian 32-bit value.</summary>
    public static uint ReadUInt32(this IGuestMemory memory, ulong address)
    {
        Span<byte> buffer = stackalloc byte[4];
        memory.Read(address, buffer);
        return BinaryPrimitives.ReadUInt32LittleEndian(buffer);
    }

    /// <summary>Reads a little-endian 64-bit value.</summary>
    public static ulong ReadUInt64(this IGuestMemory memory, ulong address)
    {
        Span<byte> buffer = stackalloc byte[8];
        memory.Read(address, buffer);
        return BinaryPrimitives.ReadUInt64LittleEndian(buffer);
    }

    /// <summary>Writes a byte.</summary>
    public static void WriteByte(this IGuestMemory memory, ulong address, byte value) => memory.GetSpan(address, 1)[0] = value;

    /// <summary>Writes a little-endian 16-bit value.</summary>
    public static void WriteUInt16(this IGuestMemory memory, ulong address, ushort value)
    {
        Span<byte> buffer = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, value);
        memory.Write(address, buffer);
    }

    /// <summary>Writes a little-endian 32-bit value.</summary>
    public static void WriteUInt32(this IGuestMemory memory, ulong address, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        memory.Write(address, buffer);
    }

    /// <summary>Writes a little-endian 64-bit value.</summary>
    public static void WriteUInt64(this IGuestMemory memory, ulong address, ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
        memory.Write(address, buffer);
    }
}
