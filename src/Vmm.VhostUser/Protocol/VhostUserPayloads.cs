using System.Buffers.Binary;

namespace Vmm.VhostUser.Protocol;

/// <summary>A vring state description: a queue index and a number (size, base or enable flag).</summary>
internal readonly record struct VringState(uint Index, uint Number)
{
    /// <summary>The wire length.</summary>
    public const int Length = 8;

    /// <summary>Encodes the state.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Number);
    }
}

/// <summary>A vring address description; the ring addresses are front-end user addresses.</summary>
internal readonly record struct VringAddress(uint Index, uint Flags, ulong DescriptorTable, ulong UsedRing, ulong AvailableRing, ulong LogAddress)
{
    /// <summary>The wire length.</summary>
    public const int Length = 40;

    /// <summary>Encodes the description.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Index);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], DescriptorTable);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], UsedRing);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], AvailableRing);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], LogAddress);
    }
}

/// <summary>One memory region of SET_MEM_TABLE.</summary>
internal readonly record struct MemoryRegionDescription(ulong GuestAddress, ulong Size, ulong UserAddress, ulong MmapOffset)
{
    /// <summary>The wire length.</summary>
    public const int Length = 32;

    /// <summary>Encodes the region.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, GuestAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], UserAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], MmapOffset);
    }
}

/// <summary>
/// Decodes payloads. Every reader checks the exact length first, so a short or oversize payload is a
/// <see cref="VhostUserProtocolException"/>, never an out-of-range read.
/// </summary>
internal static class VhostUserPayloads
{
    /// <summary>The most regions SET_MEM_TABLE may carry (VHOST_MEMORY_BASELINE_NREGIONS).</summary>
    public const int MaxMemoryRegions = 8;

    /// <summary>The config header (offset, size, flags) before the config bytes.</summary>
    public const int ConfigHeaderLength = 12;

    /// <summary>The largest config access (VHOST_USER_MAX_CONFIG_SIZE).</summary>
    public const int MaxConfigSize = 256;

    /// <summary>Bits 0-7 of a KICK/CALL/ERR payload: the queue index.</summary>
    public const ulong VringIndexMask = 0xff;

    /// <summary>Bit 8 of a KICK/CALL/ERR payload: no descriptor was sent.</summary>
    public const ulong InvalidDescriptorFlag = 0x100;

    /// <summary>Reads a u64 payload.</summary>
    public static ulong ReadUInt64(VhostUserMessage message)
    {
        RequireLength(message, 8);
        return BinaryPrimitives.ReadUInt64LittleEndian(message.Payload);
    }

    /// <summary>Reads a vring state payload.</summary>
    public static VringState ReadVringState(VhostUserMessage message)
    {
        RequireLength(message, VringState.Length);
        ReadOnlySpan<byte> p = message.Payload;
        return new VringState(BinaryPrimitives.ReadUInt32LittleEndian(p), BinaryPrimitives.ReadUInt32LittleEndian(p[4..]));
    }

    /// <summary>Reads a vring address payload.</summary>
    public static VringAddress ReadVringAddress(VhostUserMessage message)
    {
        RequireLength(message, VringAddress.Length);
        ReadOnlySpan<byte> p = message.Payload;
        return new VringAddress(
            BinaryPrimitives.ReadUInt32LittleEndian(p),
            BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(p[32..]));
    }

    /// <summary>Reads the regions of SET_MEM_TABLE; the count must match the payload length and the descriptors.</summary>
    public static MemoryRegionDescription[] ReadMemoryTable(VhostUserMessage message)
    {
        ReadOnlySpan<byte> p = message.Payload;
        if (p.Length < 8)
        {
            Throw(message, $"is {p.Length} bytes, shorter than its 8-byte region count");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(p);
        if (count == 0 || count > MaxMemoryRegions)
        {
            Throw(message, $"declares {count} regions; 1 to {MaxMemoryRegions} are allowed");
        }

        RequireLength(message, 8 + ((int)count * MemoryRegionDescription.Length));
        if (message.DescriptorCount != count)
        {
            Throw(message, $"declares {count} regions but carries {message.DescriptorCount} descriptors");
        }

        var regions = new MemoryRegionDescription[count];
        for (int i = 0; i < regions.Length; i++)
        {
            ReadOnlySpan<byte> r = p.Slice(8 + (i * MemoryRegionDescription.Length), MemoryRegionDescription.Length);
            regions[i] = new MemoryRegionDescription(
                BinaryPrimitives.ReadUInt64LittleEndian(r),
                BinaryPrimitives.ReadUInt64LittleEndian(r[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(r[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(r[24..]));
        }

        return regions;
    }

    /// <summary>Reads a config access header and checks it against the payload and the device's config size.</summary>
    public static (int Offset, int Size, uint Flags) ReadConfigHeader(VhostUserMessage message, int deviceConfigSize)
    {
        ReadOnlySpan<byte> p = message.Payload;
        if (p.Length < ConfigHeaderLength)
        {
            Throw(message, $"is {p.Length} bytes, shorter than the {ConfigHeaderLength}-byte config header");
        }

        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(p);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(p[8..]);
        if (size > MaxConfigSize || p.Length != ConfigHeaderLength + size)
        {
            Throw(message, $"declares {size} config bytes in a {p.Length}-byte payload");
        }

        if ((ulong)offset + size > (ulong)deviceConfigSize)
        {
            Throw(message, $"accesses config bytes {offset}..{(ulong)offset + size} of a {deviceConfigSize}-byte config space");
        }

        return ((int)offset, (int)size, flags);
    }

    /// <summary>Checks that a message without a payload has none.</summary>
    public static void RequireEmpty(VhostUserMessage message) => RequireLength(message, 0);

    private static void RequireLength(VhostUserMessage message, int length)
    {
        if (message.Header.Size != length)
        {
            Throw(message, $"is {message.Header.Size} bytes, expected {length}");
        }
    }

    private static void Throw(VhostUserMessage message, string problem) =>
        throw new VhostUserProtocolException($"The {message.Header.Request} payload {problem}.");
}
