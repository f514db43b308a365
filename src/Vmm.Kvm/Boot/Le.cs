using System.Buffers.Binary;

namespace Vmm.Kvm.Boot;

/// <summary>Little-endian stores at an offset, to keep the table writers readable.</summary>
internal static class Le
{
    public static void U16(Span<byte> span, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(span[offset..], value);

    public static void U32(Span<byte> span, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(span[offset..], value);

    public static void U64(Span<byte> span, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], value);
}
