using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>fuse_in_header (40 bytes), copied out of guest memory once and then validated.</summary>
internal readonly record struct FuseInHeader(uint Length, FuseOpcode Opcode, ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid)
{
    public static FuseInHeader Parse(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(header),
        (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[24..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[28..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[32..]));
}
