using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.Ivshmem.SharedMemory;

/// <summary>
/// The one bounds-checked view of shared memory that LGMP and KVMFR use: a base pointer and a length. Every offset
/// and length that comes from shared memory (written by another process, possibly hostile) is checked here before
/// it is dereferenced; nothing else in the plugin indexes the memory. Plain reads and writes are little-endian and
/// unaligned-safe; acquire/release and interlocked operations need a naturally aligned word.
/// </summary>
/// <remarks>
/// Checks throw <see cref="ArgumentOutOfRangeException"/>: that is a bug in the caller, which must first test a
/// hostile value with <see cref="Contains"/> and turn a bad one into its protocol's error.
/// </remarks>
internal sealed unsafe class SharedRegion : IDisposable
{
    private readonly SharedMemoryFile? _file;
    private void* _owned;

    private SharedRegion(byte* pointer, long length, SharedMemoryFile? file, void* owned)
    {
        Pointer = pointer;
        Length = length;
        _file = file;
        _owned = owned;
    }

    /// <summary>The start of the region (page-aligned for files and native allocations).</summary>
    public byte* Pointer { get; }

    /// <summary>The region's length in bytes.</summary>
    public long Length { get; }

    /// <summary>A view of a mapped shared-memory file; the file stays owned by the caller.</summary>
    public static SharedRegion Over(SharedMemoryFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new SharedRegion(file.Pointer, file.Size, file, owned: null);
    }

    /// <summary>A view of <paramref name="length"/> bytes at <paramref name="pointer"/>, owned by the caller.</summary>
    public static SharedRegion Over(byte* pointer, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (pointer == null && length != 0)
        {
            throw new ArgumentNullException(nameof(pointer));
        }

        return new SharedRegion(pointer, length, file: null, owned: null);
    }

    /// <summary>Allocates zeroed, page-aligned native memory that the region frees on <see cref="Dispose"/> (tests, benchmarks).</summary>
    public static SharedRegion AllocateNative(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        void* memory = NativeMemory.AlignedAlloc((nuint)length, 4096);
        NativeMemory.Clear(memory, (nuint)length);
        return new SharedRegion((byte*)memory, length, file: null, memory);
    }

    /// <summary>Whether <c>[offset, offset + length)</c> lies inside the region (overflow-safe).</summary>
    public bool Contains(long offset, long length) =>
        offset >= 0 && length >= 0 && offset <= Length && length <= Length - offset;

    /// <summary>Reads a byte.</summary>
    public byte ReadU8(long offset) => *At(offset, 1);

    /// <summary>Writes a byte.</summary>
    public void WriteU8(long offset, byte value) => *At(offset, 1) = value;

    /// <summary>Reads a little-endian u16 (any alignment).</summary>
    public ushort ReadU16(long offset) => BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(At(offset, 2), 2));

    /// <summary>Writes a little-endian u16 (any alignment).</summary>
    public void WriteU16(long offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(At(offset, 2), 2), value);

    /// <summary>Reads a little-endian u32 (any alignment).</summary>
    public uint ReadU32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(At(offset, 4), 4));

    /// <summary>Writes a little-endian u32 (any alignment).</summary>
    public void WriteU32(long offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(At(offset, 4), 4), value);

    /// <summary>Reads a little-endian u64 (any alignment).</summary>
    public ulong ReadU64(long offset) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(At(offset, 8), 8));

    /// <summary>Writes a little-endian u64 (any alignment).</summary>
    public void WriteU64(long offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(At(offset, 8), 8), value);

    /// <summary>An acquire load of an aligned u32 (later reads are not moved before it).</summary>
    public uint LoadAcquireU32(long offset) => Volatile.Read(ref *(uint*)Aligned(offset, 4));

    /// <summary>A release store of an aligned u32 (earlier writes are visible before it).</summary>
    public void StoreReleaseU32(long offset, uint value) => Volatile.Write(ref *(uint*)Aligned(offset, 4), value);

    /// <summary>An atomic acquire load of an aligned u64.</summary>
    public ulong LoadAcquireU64(long offset) => Volatile.Read(ref *(ulong*)Aligned(offset, 8));

    /// <summary>An atomic release store of an aligned u64.</summary>
    public void StoreReleaseU64(long offset, ulong value) => Volatile.Write(ref *(ulong*)Aligned(offset, 8), value);

    /// <summary>Atomically replaces an aligned u32 with <paramref name="value"/> if it equals <paramref name="comparand"/>; returns the value before.</summary>
    public uint CompareExchangeU32(long offset, uint value, uint comparand) =>
        Interlocked.CompareExchange(ref *(uint*)Aligned(offset, 4), value, comparand);

    /// <summary>Atomically replaces an aligned u64 with <paramref name="value"/> if it equals <paramref name="comparand"/>; returns the value before.</summary>
    public ulong CompareExchangeU64(long offset, ulong value, ulong comparand) =>
        Interlocked.CompareExchange(ref *(ulong*)Aligned(offset, 8), value, comparand);

    /// <summary>Atomically adds to an aligned u32 (wrapping); returns the value before, as C's <c>atomic_fetch_add</c>.</summary>
    public uint FetchAddU32(long offset, uint delta) => Interlocked.Add(ref *(uint*)Aligned(offset, 4), delta) - delta;

    /// <summary>Atomically ANDs an aligned u32; returns the value before.</summary>
    public uint FetchAndU32(long offset, uint mask) => Interlocked.And(ref *(uint*)Aligned(offset, 4), mask);

    /// <summary>Atomically ORs an aligned u32; returns the value before.</summary>
    public uint FetchOrU32(long offset, uint mask) => Interlocked.Or(ref *(uint*)Aligned(offset, 4), mask);

    /// <summary>Atomically replaces an aligned u32; returns the value before.</summary>
    public uint ExchangeU32(long offset, uint value) => Interlocked.Exchange(ref *(uint*)Aligned(offset, 4), value);

    /// <summary>Atomically replaces an aligned u64; returns the value before.</summary>
    public ulong ExchangeU64(long offset, ulong value) => Interlocked.Exchange(ref *(ulong*)Aligned(offset, 8), value);

    /// <summary>The bytes <c>[offset, offset + length)</c>, writable.</summary>
    public Span<byte> GetSpan(long offset, int length) => new(At(offset, length), length);

    /// <summary>The bytes <c>[offset, offset + length)</c>, read-only.</summary>
    public ReadOnlySpan<byte> GetReadOnlySpan(long offset, int length) => new(At(offset, length), length);

    /// <summary>Frees native memory from <see cref="AllocateNative"/>; a view of a file or of caller memory is only dropped.</summary>
    public void Dispose()
    {
        if (_owned != null)
        {
            NativeMemory.AlignedFree(_owned);
            _owned = null;
        }

        GC.KeepAlive(_file);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* At(long offset, long length)
    {
        if (!Contains(offset, length))
        {
            ThrowOutOfRange(offset, length);
        }

        return Pointer + offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Aligned(long offset, int size)
    {
        byte* at = At(offset, size);
        if (((nuint)at & (nuint)(size - 1)) != 0)
        {
            ThrowMisaligned(offset, size);
        }

        return at;
    }

    private void ThrowOutOfRange(long offset, long length) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside the {Length}-byte shared region");

    private static void ThrowMisaligned(long offset, int size) =>
        throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} is not aligned to {size} bytes for an atomic access");
}
