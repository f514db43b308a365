using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>
/// Reads a request's in-arguments: fixed little-endian fields and NUL-terminated names packed back to back,
/// unaligned. Every read is bounds-checked; a short request makes the Try methods return false.
/// </summary>
internal ref struct FuseArgs
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public FuseArgs(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>The bytes not read yet.</summary>
    public readonly ReadOnlySpan<byte> Rest => _data[_position..];

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return true;
    }

    /// <summary>
    /// Reads one of the wire structs declared in FuseStructs.cs (little-endian, as on every host we run on);
    /// false when fewer bytes remain than its size.
    /// </summary>
    public bool TryRead<T>(out T value)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (Remaining < size)
        {
            value = default;
            return false;
        }

        value = MemoryMarshal.Read<T>(_data.Slice(_position, size));
        _position += size;
        return true;
    }

    /// <summary>
    /// Reads a wire struct that older protocol minors send shorter (fuse_init_in was 16 bytes before 7.36): at least
    /// <paramref name="minimum"/> bytes, the fields not sent read as zero.
    /// </summary>
    public bool TryReadPrefix<T>(int minimum, out T value)
        where T : unmanaged
    {
        int size = Math.Min(Unsafe.SizeOf<T>(), Remaining);
        value = default;
        if (size < minimum)
        {
            return false;
        }

        _data.Slice(_position, size).CopyTo(MemoryMarshal.AsBytes(new Span<T>(ref value)));
        _position += size;
        return true;
    }

    /// <summary>Reads a fixed struct of <paramref name="length"/> bytes.</summary>
    public bool TryReadBytes(int length, out ReadOnlySpan<byte> bytes)
    {
        if (length < 0 || Remaining < length)
        {
            bytes = default;
            return false;
        }

        bytes = _data.Slice(_position, length);
        _position += length;
        return true;
    }

    /// <summary>Reads a string up to (not including) its NUL, which must lie inside the request.</summary>
    public bool TryReadString(out ReadOnlySpan<byte> value)
    {
        int end = _data[_position..].IndexOf((byte)0);
        if (end < 0)
        {
            value = default;
            return false;
        }

        value = _data.Slice(_position, end);
        _position += end + 1;
        return true;
    }
}
