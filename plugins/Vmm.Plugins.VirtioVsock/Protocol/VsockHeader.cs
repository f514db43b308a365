using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioVsock.Protocol;

/// <summary>
/// <c>struct virtio_vsock_hdr</c> (virtio 1.2 §5.10.6, <c>&lt;linux/virtio_vsock.h&gt;</c>): 44 bytes, packed, little
/// endian, in front of every packet on the rx and tx queues. Declared here once, by field; a test checks every offset
/// against the kernel header with gcc.
/// </summary>
internal readonly record struct VsockHeader(
    ulong SourceCid,
    ulong DestinationCid,
    uint SourcePort,
    uint DestinationPort,
    uint Length,
    VsockSocketType Type,
    VsockOp Op,
    uint Flags,
    uint BufferAllocation,
    uint ForwardCount)
{
    /// <summary><c>sizeof(struct virtio_vsock_hdr)</c>.</summary>
    public const int Size = 44;

    /// <summary>Offset of <c>src_cid</c> (le64).</summary>
    public const int SourceCidOffset = 0;

    /// <summary>Offset of <c>dst_cid</c> (le64).</summary>
    public const int DestinationCidOffset = 8;

    /// <summary>Offset of <c>src_port</c> (le32).</summary>
    public const int SourcePortOffset = 16;

    /// <summary>Offset of <c>dst_port</c> (le32).</summary>
    public const int DestinationPortOffset = 20;

    /// <summary>Offset of <c>len</c> (le32): the payload's length.</summary>
    public const int LengthOffset = 24;

    /// <summary>Offset of <c>type</c> (le16).</summary>
    public const int TypeOffset = 28;

    /// <summary>Offset of <c>op</c> (le16).</summary>
    public const int OpOffset = 30;

    /// <summary>Offset of <c>flags</c> (le32).</summary>
    public const int FlagsOffset = 32;

    /// <summary>Offset of <c>buf_alloc</c> (le32): the sender's receive buffer for this connection.</summary>
    public const int BufferAllocationOffset = 36;

    /// <summary>Offset of <c>fwd_cnt</c> (le32): bytes the sender has consumed from its receive buffer.</summary>
    public const int ForwardCountOffset = 40;

    /// <summary>Reads a header from the first <see cref="Size"/> bytes of <paramref name="bytes"/>.</summary>
    public static VsockHeader Read(ReadOnlySpan<byte> bytes)
    {
        bytes = bytes[..Size];
        return new VsockHeader(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[SourceCidOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[DestinationCidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[SourcePortOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[DestinationPortOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[LengthOffset..]),
            (VsockSocketType)BinaryPrimitives.ReadUInt16LittleEndian(bytes[TypeOffset..]),
            (VsockOp)BinaryPrimitives.ReadUInt16LittleEndian(bytes[OpOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[FlagsOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[BufferAllocationOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[ForwardCountOffset..]));
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="bytes"/>.</summary>
    public void Write(Span<byte> bytes)
    {
        bytes = bytes[..Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[SourceCidOffset..], SourceCid);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[DestinationCidOffset..], DestinationCid);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[SourcePortOffset..], SourcePort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[DestinationPortOffset..], DestinationPort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[LengthOffset..], Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[TypeOffset..], (ushort)Type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[OpOffset..], (ushort)Op);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[FlagsOffset..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[BufferAllocationOffset..], BufferAllocation);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[ForwardCountOffset..], ForwardCount);
    }
}
