using System.Buffers.Binary;

namespace Vmm.Fuzz.Harness;

/// <summary>Reads little-endian fields off the front of an input; past the end every read returns zero.</summary>
public ref struct FuzzInput(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _data = data;

    /// <summary>What is left.</summary>
    public readonly ReadOnlySpan<byte> Remaining => _data;

    /// <summary>True when nothing is left.</summary>
    public readonly bool IsEmpty => _data.IsEmpty;

    /// <summary>One byte.</summary>
    public byte U8() => (byte)Take(1);

    /// <summary>Two bytes.</summary>
    public ushort U16() => (ushort)Take(2);

    /// <summary>Four bytes.</summary>
    public uint U32() => (uint)Take(4);

    /// <summary>Up to <paramref name="length"/> bytes (fewer at the end of the input).</summary>
    public ReadOnlySpan<byte> Bytes(int length)
    {
        int taken = Math.Min(length, _data.Length);
        ReadOnlySpan<byte> bytes = _data[..taken];
        _data = _data[taken..];
        return bytes;
    }

    private ulong Take(int size)
    {
        Span<byte> buffer = stackalloc byte[8];
        buffer.Clear();
        Bytes(size).CopyTo(buffer);
        return BinaryPrimitives.ReadUInt64LittleEndian(buffer);
    }
}
