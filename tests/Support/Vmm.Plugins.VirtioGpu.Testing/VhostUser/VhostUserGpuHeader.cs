using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>The 12-byte vhost-user-gpu message header: request, flags, payload size (little-endian on x86-64).</summary>
/// <param name="Request">The request.</param>
/// <param name="Flags">The flags; replies set <see cref="ReplyFlag"/>.</param>
/// <param name="Size">The payload size in bytes.</param>
public readonly record struct VhostUserGpuHeader(VhostUserGpuRequest Request, uint Flags, uint Size)
{
    /// <summary>The header length on the wire.</summary>
    public const int Length = 12;

    /// <summary>Set on every reply from the front-end (the back-end checks it).</summary>
    public const uint ReplyFlag = 0x4;

    /// <summary>Decodes a header.</summary>
    public static VhostUserGpuHeader Read(ReadOnlySpan<byte> source) => new(
        (VhostUserGpuRequest)BinaryPrimitives.ReadUInt32LittleEndian(source),
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
