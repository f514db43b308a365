using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>The 12-byte vhost-user-gpu message header: request, flags, payload size (little-endian on x86-64).</summary>
/// <remarks>
/// The vhost-user-gpu protocol borrows vhost-user's header shape, so this reads and writes the same three words as
/// Vmm.VhostUser's internal <c>VhostUserHeader</c>. They stay two types: a different protocol on a different socket,
/// with its own request numbers and flags (no version bits, no NEED_REPLY), and this one is the public type of a
/// test peer, while sharing would make a host assembly's wire type public or open its internals to test support.
/// </remarks>
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
