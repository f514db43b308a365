using Vmm.Contracts.Memory;

namespace Vmm.Plugins.VirtioRng.Tests.Fakes;

/// <summary>One region of guest memory backed by a byte array, with the contract's bounds checks.</summary>
internal sealed class FakeGuestMemory : IGuestMemory
{
    private readonly byte[] _bytes;

    public FakeGuestMemory(ulong baseAddress, int size)
    {
        _bytes = new byte[size];
        Regions = [new GuestMemoryRegionInfo(baseAddress, (ulong)size)];
    }

    public IReadOnlyList<GuestMemoryRegionInfo> Regions { get; }

    public ulong BaseAddress => Regions[0].GuestAddress;

    public ReadOnlySpan<byte> Bytes(ulong address, int length) => GetSpan(address, length);

    public bool TryGetSpan(ulong address, int length, out Span<byte> span)
    {
        if (length < 0 || !IsValidRange(address, (ulong)length))
        {
            span = default;
            return false;
        }

        span = _bytes.AsSpan((int)(address - BaseAddress), length);
        return true;
    }

    public Span<byte> GetSpan(ulong address, int length)
        => TryGetSpan(address, length, out Span<byte> span) ? span : throw new GuestMemoryException(address, (ulong)length);

    public void Read(ulong address, Span<byte> destination) => GetSpan(address, destination.Length).CopyTo(destination);

    public void Write(ulong address, ReadOnlySpan<byte> source) => source.CopyTo(GetSpan(address, source.Length));

    public bool IsValidRange(ulong address, ulong length)
    {
        GuestMemoryRegionInfo region = Regions[0];
        return address >= region.GuestAddress && length <= region.Size && address - region.GuestAddress <= region.Size - length;
    }
}
