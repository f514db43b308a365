using System.Buffers.Binary;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>Writes reply structs (little-endian, full size, zero padding) into a reply buffer.</summary>
internal static class FuseWriter
{
    public static void WriteOutHeader(Span<byte> destination, int length, int error, ulong unique)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], error);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], unique);
    }

    /// <summary>fuse_attr (88 bytes).</summary>
    public static void WriteAttr(Span<byte> destination, in HostFileStatus status, uint uid, uint gid, uint blockSize)
    {
        Span<byte> d = destination[..FuseProtocol.AttrSize];
        d.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d, status.Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], (ulong)Math.Max(0, status.Size));
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], (ulong)Math.Max(0, status.Blocks));
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], (ulong)status.AccessSeconds);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], (ulong)status.ModifySeconds);
        BinaryPrimitives.WriteUInt64LittleEndian(d[40..], (ulong)status.ChangeSeconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], (uint)status.AccessNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[52..], (uint)status.ModifyNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[56..], (uint)status.ChangeNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d[60..], status.Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(d[64..], (uint)Math.Min(status.LinkCount, uint.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(d[68..], uid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[72..], gid);
        BinaryPrimitives.WriteUInt32LittleEndian(d[76..], EncodeDevice(status.RawDevice));
        BinaryPrimitives.WriteUInt32LittleEndian(d[80..], blockSize);
    }

    /// <summary>fuse_entry_out (128 bytes) without its attr, which the caller writes at offset 40.</summary>
    public static void WriteEntryHeader(Span<byte> destination, ulong nodeId, ulong entryValid, ulong attrValid)
    {
        Span<byte> d = destination[..40];
        d.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d, nodeId);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], entryValid);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], attrValid);
    }

    /// <summary>fuse_open_out (16 bytes).</summary>
    public static void WriteOpenOut(Span<byte> destination, ulong handle, uint openFlags)
    {
        Span<byte> d = destination[..FuseProtocol.OpenOutSize];
        d.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(d, handle);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], openFlags);
    }

    /// <summary>
    /// The kernel's 32-bit new_encode_dev format from glibc's 64-bit dev_t
    /// (major = bits 8-19 and 32-63, minor = bits 0-7 and 12-31).
    /// </summary>
    public static uint EncodeDevice(ulong device)
    {
        uint major = (uint)(((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFFUL));
        uint minor = (uint)((device & 0xFF) | ((device >> 12) & ~0xFFUL));
        return (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12);
    }

    /// <summary>
    /// glibc's 64-bit dev_t from the kernel's 32-bit new_encode_dev format a guest sends in mknod_in.rdev
    /// (the inverse of <see cref="EncodeDevice"/>).
    /// </summary>
    public static ulong DecodeDevice(uint device)
    {
        ulong major = (device & 0xFFF00) >> 8;
        ulong minor = (device & 0xFF) | ((device >> 12) & 0xFFF00);
        return ((major & 0xFFFFF000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
    }
}
