namespace Vmm.Contracts.Memory;

/// <summary>
/// Guest physical memory, as a device sees it. Every address and length is checked before use: a range that
/// falls outside memory, wraps around, or straddles a hole between regions is rejected with
/// <see cref="GuestMemoryException"/> (or <c>false</c> from the <c>Try</c> forms), never dereferenced.
/// </summary>
/// <remarks>
/// The memory is shared with a running guest: the bytes behind a span can change under the reader. Copy a guest
/// structure out once, then validate the copy (no double fetch).
/// </remarks>
public interface IGuestMemory
{
    /// <summary>The regions, sorted by guest address, not overlapping.</summary>
    IReadOnlyList<GuestMemoryRegionInfo> Regions { get; }

    /// <summary>
    /// Gets a span over <paramref name="length"/> bytes at <paramref name="address"/> when the whole range lies in
    /// one region. The span stays valid while the memory is mapped (until the VM is torn down).
    /// </summary>
    bool TryGetSpan(ulong address, int length, out Span<byte> span);

    /// <summary>Gets a span over a range that lies in one region, or throws <see cref="GuestMemoryException"/>.</summary>
    Span<byte> GetSpan(ulong address, int length);

    /// <summary>Copies guest bytes out; the range may cross adjacent regions but not a hole.</summary>
    void Read(ulong address, Span<byte> destination);

    /// <summary>Copies bytes into guest memory; the range may cross adjacent regions but not a hole.</summary>
    void Write(ulong address, ReadOnlySpan<byte> source);

    /// <summary>Whether the whole range is backed by guest memory (adjacent regions allowed).</summary>
    bool IsValidRange(ulong address, ulong length);
}
