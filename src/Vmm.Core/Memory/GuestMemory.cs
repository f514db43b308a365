using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Interop;

namespace Vmm.Core.Memory;

/// <summary>
/// Guest physical memory backed by host mappings (memfd for the RAM we create, caller files for vhost-user).
/// Every access is bounds-checked against the regions, which never change after construction; lookups are a
/// binary search over flat arrays and allocate nothing.
/// </summary>
public sealed unsafe class GuestMemory : IGuestMemory, IDisposable
{
    private const string MemoryFileName = "vmm-guest-ram";

    private readonly GuestMemoryRegion[] _regions;
    private readonly GuestMemoryRegionInfo[] _infos;
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly nint[] _hosts;
    private volatile bool _disposed;

    private GuestMemory(GuestMemoryRegion[] regions)
    {
        _regions = regions;
        _infos = new GuestMemoryRegionInfo[regions.Length];
        _starts = new ulong[regions.Length];
        _ends = new ulong[regions.Length];
        _hosts = new nint[regions.Length];
        for (int i = 0; i < regions.Length; i++)
        {
            _infos[i] = regions[i].Info;
            _starts[i] = regions[i].GuestAddress;
            _ends[i] = regions[i].End;
            _hosts[i] = regions[i].HostAddress;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<GuestMemoryRegionInfo> Regions => _infos;

    /// <summary>The mapped regions, sorted by guest address.</summary>
    public IReadOnlyList<GuestMemoryRegion> MappedRegions => _regions;

    /// <summary>Creates one memfd-backed region of <paramref name="size"/> bytes at guest address 0.</summary>
    public static GuestMemory Create(ulong size) => Create([new GuestMemoryRegionSpec(0, size)]);

    /// <summary>
    /// Creates memfd-backed regions (shareable with KVM and vhost-user frontends). Each must be page aligned, not
    /// empty, and not overlap another; they are sorted by address.
    /// </summary>
    public static GuestMemory Create(IEnumerable<GuestMemoryRegionSpec> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        GuestMemoryRegionSpec[] specs = SortByAddress(regions);
        if (specs.Length == 0)
        {
            throw new ArgumentException("Guest memory needs at least one region.", nameof(regions));
        }

        foreach (GuestMemoryRegionSpec spec in specs)
        {
            if (!HostMemory.IsPageAligned(spec.GuestAddress) || !HostMemory.IsPageAligned(spec.Size))
            {
                throw new ArgumentException($"Region 0x{spec.GuestAddress:x}+0x{spec.Size:x} is not page aligned (page size 0x{HostMemory.PageSize:x}).", nameof(regions));
            }
        }

        CheckLayout(specs, nameof(regions));

        var mapped = new List<GuestMemoryRegion>(specs.Length);
        try
        {
            foreach (GuestMemoryRegionSpec spec in specs)
            {
                SafeFileHandle file = HostMemory.CreateMemoryFile(MemoryFileName, spec.Size);
                SafeMemoryMapping mapping;
                try
                {
                    mapping = HostMemory.MapShared(file, 0, spec.Size, writable: true);
                }
                catch
                {
                    file.Dispose();
                    throw;
                }

                mapped.Add(new GuestMemoryRegion(spec.GuestAddress, spec.Size, mapping, mapping.Address, file, 0));
            }
        }
        catch
        {
            ReleaseAll(mapped);
            throw;
        }

        return new GuestMemory([.. mapped]);
    }

    /// <summary>
    /// Maps regions from files a peer handed over (vhost-user SET_MEM_TABLE). Takes ownership of every handle,
    /// also when it throws. Regions must not be empty, wrap around or overlap; they are sorted by address.
    /// </summary>
    public static GuestMemory FromFileRegions(IEnumerable<GuestMemoryFileRegion> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        GuestMemoryFileRegion[] specs = [.. regions.OrderBy(r => r.GuestAddress)];
        var mapped = new List<GuestMemoryRegion>(specs.Length);
        try
        {
            if (specs.Length == 0)
            {
                throw new ArgumentException("Guest memory needs at least one region.", nameof(regions));
            }

            foreach (GuestMemoryFileRegion spec in specs)
            {
                ArgumentNullException.ThrowIfNull(spec.File, nameof(regions));
                if (spec.FileOffset < 0)
                {
                    throw new ArgumentException($"Region 0x{spec.GuestAddress:x} has a negative file offset.", nameof(regions));
                }
            }

            CheckLayout(specs.Select(s => (s.GuestAddress, s.Size)), nameof(regions));
            foreach (GuestMemoryFileRegion spec in specs)
            {
                // mmap wants a page-aligned file offset; map from the page below and point into it.
                long delta = spec.FileOffset & (long)(HostMemory.PageSize - 1);
                SafeMemoryMapping mapping = HostMemory.MapShared(spec.File, spec.FileOffset - delta, spec.Size + (ulong)delta, writable: true);
                mapped.Add(new GuestMemoryRegion(spec.GuestAddress, spec.Size, mapping, mapping.Address + (nint)delta, spec.File, spec.FileOffset));
            }
        }
        catch
        {
            ReleaseAll(mapped);
            foreach (GuestMemoryFileRegion spec in specs)
            {
                spec.File?.Dispose();
            }

            throw;
        }

        return new GuestMemory([.. mapped]);
    }

    /// <inheritdoc/>
    public bool IsValidRange(ulong address, ulong length)
    {
        int index = FindRegion(address);
        if (index < 0)
        {
            return false;
        }

        ulong end = address + length;
        if (end < address)
        {
            return false;
        }

        while (end > _ends[index])
        {
            // Only an adjacent region may continue the range; a hole ends it.
            if (index + 1 == _starts.Length || _starts[index + 1] != _ends[index])
            {
                return false;
            }

            index++;
        }

        return true;
    }

    /// <inheritdoc/>
    public bool TryGetSpan(ulong address, int length, out Span<byte> span)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        int index = FindRegion(address);
        if (index < 0 || (ulong)length > _ends[index] - address)
        {
            span = default;
            return false;
        }

        span = new Span<byte>((byte*)_hosts[index] + (address - _starts[index]), length);
        return true;
    }

    /// <inheritdoc/>
    public Span<byte> GetSpan(ulong address, int length)
    {
        if (!TryGetSpan(address, length, out Span<byte> span))
        {
            ThrowOutOfRange(address, (ulong)length);
        }

        return span;
    }

    /// <inheritdoc/>
    public void Read(ulong address, Span<byte> destination)
    {
        if (!IsValidRange(address, (ulong)destination.Length))
        {
            ThrowOutOfRange(address, (ulong)destination.Length);
        }

        int index = FindRegion(address);
        while (!destination.IsEmpty)
        {
            int n = (int)Math.Min((ulong)destination.Length, _ends[index] - address);
            new ReadOnlySpan<byte>((byte*)_hosts[index] + (address - _starts[index]), n).CopyTo(destination);
            destination = destination[n..];
            address += (ulong)n;
            index++;
        }
    }

    /// <inheritdoc/>
    public void Write(ulong address, ReadOnlySpan<byte> source)
    {
        if (!IsValidRange(address, (ulong)source.Length))
        {
            ThrowOutOfRange(address, (ulong)source.Length);
        }

        int index = FindRegion(address);
        while (!source.IsEmpty)
        {
            int n = (int)Math.Min((ulong)source.Length, _ends[index] - address);
            source[..n].CopyTo(new Span<byte>((byte*)_hosts[index] + (address - _starts[index]), n));
            source = source[n..];
            address += (ulong)n;
            index++;
        }
    }

    /// <summary>Unmaps every region and closes its file. Spans handed out before are invalid afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseAll(_regions);
    }

    /// <summary>The index of the region holding <paramref name="address"/>, or -1.</summary>
    private int FindRegion(ulong address)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ulong[] starts = _starts;
        int low = 0;
        int high = starts.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            if (starts[middle] <= address)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        // high is now the last region starting at or below the address.
        return high >= 0 && address < _ends[high] ? high : -1;
    }

    // An insertion sort of a handful of regions: LINQ's OrderBy over a struct is generic code JIT-compiled at start-up.
    private static GuestMemoryRegionSpec[] SortByAddress(IEnumerable<GuestMemoryRegionSpec> regions)
    {
        GuestMemoryRegionSpec[] specs = regions is GuestMemoryRegionSpec[] array ? (GuestMemoryRegionSpec[])array.Clone() : [.. regions];
        for (int i = 1; i < specs.Length; i++)
        {
            GuestMemoryRegionSpec current = specs[i];
            int j = i - 1;
            for (; j >= 0 && specs[j].GuestAddress > current.GuestAddress; j--)
            {
                specs[j + 1] = specs[j];
            }

            specs[j + 1] = current;
        }

        return specs;
    }

    private static void CheckLayout(GuestMemoryRegionSpec[] sortedRegions, string parameterName)
    {
        for (int i = 0; i < sortedRegions.Length; i++)
        {
            CheckRegion(sortedRegions[i].GuestAddress, sortedRegions[i].Size, i == 0 ? null : sortedRegions[i - 1].GuestAddress + sortedRegions[i - 1].Size, parameterName);
        }
    }

    private static void CheckRegion(ulong address, ulong size, ulong? previousEnd, string parameterName)
    {
        if (size == 0)
        {
            throw new ArgumentException($"Region at 0x{address:x} is empty.", parameterName);
        }

        if (address + size < address || address + size == 0)
        {
            throw new ArgumentException($"Region 0x{address:x}+0x{size:x} wraps around the address space.", parameterName);
        }

        if (address < previousEnd)
        {
            throw new ArgumentException($"Region at 0x{address:x} overlaps the region ending at 0x{previousEnd:x}.", parameterName);
        }
    }

    private static void CheckLayout(IEnumerable<(ulong GuestAddress, ulong Size)> sortedRegions, string parameterName)
    {
        ulong previousEnd = 0;
        bool first = true;
        foreach ((ulong address, ulong size) in sortedRegions)
        {
            if (size == 0)
            {
                throw new ArgumentException($"Region at 0x{address:x} is empty.", parameterName);
            }

            if (address + size < address || address + size == 0)
            {
                throw new ArgumentException($"Region 0x{address:x}+0x{size:x} wraps around the address space.", parameterName);
            }

            if (!first && address < previousEnd)
            {
                throw new ArgumentException($"Region at 0x{address:x} overlaps the region ending at 0x{previousEnd:x}.", parameterName);
            }

            previousEnd = address + size;
            first = false;
        }
    }

    private static void ReleaseAll(IEnumerable<GuestMemoryRegion> regions)
    {
        foreach (GuestMemoryRegion region in regions)
        {
            region.Release();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(ulong address, ulong length) => throw new GuestMemoryException(address, length);
}
