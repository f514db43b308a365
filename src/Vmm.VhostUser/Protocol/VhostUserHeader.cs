using System.Buffers.Binary;

namespace Vmm.VhostUser.Protocol;

/// <summary>The 12-byte message header: request, flags, payload size (native byte order: little-endian on x86-64).</summary>
internal readonly record struct VhostUserHeader(VhostUserRequest Request, uint Flags, uint Size)
{
    /// <summary>The header length on the wire.</summary>
    public const int Length = 12;

    /// <summary>The version in the low two bits of every message.</summary>
    public const uint Version = 0x1;

    /// <summary>The mask of the version bits.</summary>
    public const uint VersionMask = 0x3;

    /// <summary>Set on every reply from the back-end.</summary>
    public const uint ReplyFlag = 0x4;

    /// <summary>The front-end wants an acknowledgement (REPLY_ACK).</summary>
    public const uint NeedReplyFlag = 0x8;

    /// <summary>The largest payload we accept; the biggest legitimate one (GET_CONFIG with 256 bytes) is far below.</summary>
    public const int MaxPayloadSize = 4096;

    /// <summary>Whether the front-end asked for an acknowledgement.</summary>
    public bool NeedsReply => (Flags & NeedReplyFlag) != 0;

    /// <summary>Decodes a header.</summary>
    public static VhostUserHeader Read(ReadOnlySpan<byte> source) => new(
        (VhostUserRequest)BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));

    /// <summary>Encodes the header.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Request);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Size);
    }
}
