using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;

namespace Vmm.Core.Bus;

/// <summary>
/// An address space (port I/O or MMIO) decoded into devices by range. Lookups run on vCPU threads without locks
/// and without allocating: the ranges live in an immutable sorted array that registration replaces atomically.
/// </summary>
public sealed class AddressBus
{
    /// <summary>The meter name for bus metrics.</summary>
    public const string MeterName = "Vmm.Bus";

    private static readonly Meter s_meter = new(MeterName);
    private static readonly Counter<long> s_unclaimedAccesses = s_meter.CreateCounter<long>(
        "vmm.bus.unclaimed_accesses", unit: "{access}", description: "Guest accesses that no device decoded.");

    private readonly object _registrationLock = new();
    private readonly KeyValuePair<string, object?> _busTag;
    private BusRange[] _ranges = [];
    private long _unclaimedCount;

    /// <summary>Creates an empty bus.</summary>
    /// <param name="name">A short name for metrics and messages ("pio", "mmio").</param>
    public AddressBus(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _busTag = new KeyValuePair<string, object?>("vmm.bus.name", name);
    }

    /// <summary>The bus name.</summary>
    public string Name { get; }

    /// <summary>The registered ranges, sorted by start address (a snapshot).</summary>
    public IReadOnlyList<BusRange> Ranges => Volatile.Read(ref _ranges);

    /// <summary>How many accesses hit no device (reads answered with all-ones, writes dropped).</summary>
    public long UnclaimedAccessCount => Interlocked.Read(ref _unclaimedCount);

    /// <summary>Registers <paramref name="device"/> for [<paramref name="start"/>, +<paramref name="length"/>).</summary>
    /// <exception cref="InvalidOperationException">The range overlaps a registered one.</exception>
    public void Register(ulong start, ulong length, IBusDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (length == 0 || start + (length - 1) < start)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"The range 0x{start:x}+0x{length:x} is empty or wraps around.");
        }

        var range = new BusRange(start, length, device);
        lock (_registrationLock)
        {
            BusRange[] current = _ranges;
            int index = FindInsertionIndex(current, start);
            if ((index > 0 && current[index - 1].Last >= start) || (index < current.Length && current[index].Start <= range.Last))
            {
                throw new InvalidOperationException($"Bus {Name}: the range 0x{start:x}+0x{length:x} overlaps a registered range.");
            }

            var next = new BusRange[current.Length + 1];
            Array.Copy(current, next, index);
            next[index] = range;
            Array.Copy(current, index, next, index + 1, current.Length - index);
            Volatile.Write(ref _ranges, next);
        }
    }

    /// <summary>Removes the range that starts at <paramref name="start"/>. Returns false when none does.</summary>
    public bool Unregister(ulong start)
    {
        lock (_registrationLock)
        {
            BusRange[] current = _ranges;
            int index = FindInsertionIndex(current, start);
            if (index >= current.Length || current[index].Start != start)
            {
                return false;
            }

            var next = new BusRange[current.Length - 1];
            Array.Copy(current, next, index);
            Array.Copy(current, index + 1, next, index, current.Length - index - 1);
            Volatile.Write(ref _ranges, next);
            return true;
        }
    }

    /// <summary>Finds the range that holds the whole access [<paramref name="address"/>, +<paramref name="length"/>).</summary>
    public bool TryFind(ulong address, int length, out BusRange range)
    {
        BusRange[] ranges = Volatile.Read(ref _ranges);
        int low = 0;
        int high = ranges.Length - 1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            ref readonly BusRange candidate = ref ranges[middle];
            if (address < candidate.Start)
            {
                high = middle - 1;
            }
            else if (address > candidate.Last)
            {
                low = middle + 1;
            }
            else
            {
                ulong offset = address - candidate.Start;
                if (length > 0 && (ulong)length <= candidate.Length - offset)
                {
                    range = candidate;
                    return true;
                }

                break;
            }
        }

        range = default;
        return false;
    }

    /// <summary>
    /// Dispatches a read. An access no single range holds reads as all-ones. Returns whether a device took it.
    /// </summary>
    public bool Read(ulong address, Span<byte> data)
    {
        if (TryFind(address, data.Length, out BusRange range))
        {
            range.Device.Read(address - range.Start, data);
            return true;
        }

        data.Fill(0xFF);
        CountUnclaimed();
        return false;
    }

    /// <summary>Dispatches a write. An access no single range holds is dropped. Returns whether a device took it.</summary>
    public bool Write(ulong address, ReadOnlySpan<byte> data)
    {
        if (TryFind(address, data.Length, out BusRange range))
        {
            range.Device.Write(address - range.Start, data);
            return true;
        }

        CountUnclaimed();
        return false;
    }

    /// <summary>Whether a registered range starts at <paramref name="start"/> with this device.</summary>
    public bool IsRegistered(ulong start, [NotNullWhen(true)] out IBusDevice? device)
    {
        if (TryFind(start, 1, out BusRange range) && range.Start == start)
        {
            device = range.Device;
            return true;
        }

        device = null;
        return false;
    }

    private void CountUnclaimed()
    {
        Interlocked.Increment(ref _unclaimedCount);
        if (s_unclaimedAccesses.Enabled)
        {
            s_unclaimedAccesses.Add(1, _busTag);
        }
    }

    private static int FindInsertionIndex(BusRange[] ranges, ulong start)
    {
        int low = 0;
        int high = ranges.Length;
        while (low < high)
        {
            int middle = low + ((high - low) >> 1);
            if (ranges[middle].Start < start)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
