using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Testing.VhostUser;

/// <summary>
/// The fixed part of VhostUserGpuUpdate (UPDATE and DMABUF_UPDATE): scanout and rectangle; an UPDATE's pixels
/// (x8r8g8b8, <c>Width * 4</c> bytes a row) follow it.
/// </summary>
/// <param name="ScanoutId">The scanout.</param>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct VhostUserGpuUpdate(uint ScanoutId, uint X, uint Y, uint Width, uint Height)
{
    /// <summary>The fixed part's length on the wire.</summary>
    public const int Length = 20;

    /// <summary>Bytes per pixel of the update data.</summary>
    public const int BytesPerPixel = 4;

    /// <summary>The pixel bytes that follow, as a 64-bit count (no overflow for hostile sizes).</summary>
    public ulong DataLength => (ulong)Width * Height * BytesPerPixel;

    /// <summary>Decodes the fixed part.</summary>
    public static VhostUserGpuUpdate Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[16..]));

    /// <summary>Encodes the fixed part.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, ScanoutId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], X);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Y);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Width);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Height);
    }
}
