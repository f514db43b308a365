using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Queues;

namespace Vmm.Testing.Virtio;

/// <summary>
/// The driver side of a split virtqueue, written the way Linux's virtio_ring.c does it: a free list of
/// descriptors, optional indirect tables, the available index published with release semantics, kick and
/// interrupt suppression through flags or EVENT_IDX. Not thread-safe: one driver thread per queue.
/// </summary>
public sealed unsafe class DriverVirtqueue
{
    private readonly GuestMemoryAllocator _allocator;
    private readonly bool _eventIndex;
    private readonly bool _indirect;
    private readonly VringPointers _rings;
    private readonly ushort[] _nextFree;
    private readonly ushort[] _chainLength;
    private readonly bool[] _inUse;
    private readonly ulong[] _indirectTables;

    private ushort _freeHead;
    private int _freeCount;
    private ushort _availableIndex;
    private int _added;
    private ushort _lastUsed;
    private ushort _availableFlags;

    /// <summary>
    /// Allocates and zeroes the three ring parts for a queue of <paramref name="size"/> entries (a power of two).
    /// <paramref name="eventIndex"/> and <paramref name="indirect"/> say which ring features were negotiated.
    /// </summary>
    public DriverVirtqueue(IGuestMemory memory, GuestMemoryAllocator allocator, ushort size, bool eventIndex, bool indirect)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(allocator);
        VringLayout.ThrowIfInvalidQueueSize(size);

        Memory = memory;
        _allocator = allocator;
        Size = size;
        _eventIndex = eventIndex;
        _indirect = indirect;
        DescriptorTableAddress = allocator.Allocate((ulong)VringLayout.DescriptorTableBytes(size), VringLayout.DescriptorTableAlignment);
        AvailableRingAddress = allocator.Allocate((ulong)VringLayout.AvailableRingBytes(size), VringLayout.AvailableRingAlignment);
        UsedRingAddress = allocator.Allocate((ulong)VringLayout.UsedRingBytes(size), VringLayout.UsedRingAlignment);
        _rings = new VringPointers(
            Pin(DescriptorTableAddress, VringLayout.DescriptorTableBytes(size)),
            Pin(AvailableRingAddress, VringLayout.AvailableRingBytes(size)),
            Pin(UsedRingAddress, VringLayout.UsedRingBytes(size)),
            size);

        _nextFree = new ushort[size];
        _chainLength = new ushort[size];
        _inUse = new bool[size];
        _indirectTables = new ulong[size];
        for (int i = 0; i < size; i++)
        {
            _nextFree[i] = (ushort)(i + 1);
        }

        _freeHead = 0;
        _freeCount = size;
    }

    /// <summary>The guest memory the rings live in.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The queue size.</summary>
    public ushort Size { get; }

    /// <summary>Where the descriptor table is (what the driver writes to queue_desc).</summary>
    public ulong DescriptorTableAddress { get; }

    /// <summary>Where the available ring is (queue_driver).</summary>
    public ulong AvailableRingAddress { get; }

    /// <summary>Where the used ring is (queue_device).</summary>
    public ulong UsedRingAddress { get; }

    /// <summary>Descriptors not in use.</summary>
    public int FreeDescriptors => _freeCount;

    /// <summary>Whether the device has returned requests that <see cref="TryGetUsed"/> has not taken yet.</summary>
    public bool HasPendingUsed => Volatile.Read(ref _rings.UsedIndex) != _lastUsed;

    /// <summary>
    /// Makes a request available: <paramref name="readable"/> buffers for the device to read, then
    /// <paramref name="writable"/> ones for it to fill. With <paramref name="useIndirect"/> the buffers go in an
    /// indirect table and take one ring descriptor. Returns the head descriptor id the used ring will report.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not enough free descriptors, or indirect not negotiated.</exception>
    public ushort Add(ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable, bool useIndirect = false)
    {
        int count = readable.Length + writable.Length;
        if (count == 0)
        {
            throw new ArgumentException("A request needs at least one buffer.", nameof(readable));
        }

        ushort head;
        if (useIndirect)
        {
            if (!_indirect)
            {
                throw new InvalidOperationException("Indirect descriptors were not negotiated.");
            }

            if (count > Size)
            {
                throw new ArgumentException($"An indirect table holds at most {Size} buffers.", nameof(readable));
            }

            head = TakeDescriptors(1);
            ulong table = _indirectTables[head];
            if (table == 0)
            {
                table = _allocator.Allocate((ulong)VringLayout.DescriptorTableBytes(Size), VringLayout.DescriptorTableAlignment);
                _indirectTables[head] = table;
            }

            Span<byte> entries = Memory.GetSpan(table, VringLayout.DescriptorTableBytes(count));
            for (int i = 0; i < count; i++)
            {
                (GuestBuffer buffer, ushort flags) = BufferAt(readable, writable, i);
                bool last = i == count - 1;
                WriteDescriptor(entries.Slice(i * VringLayout.DescriptorSize, VringLayout.DescriptorSize), buffer.Address, buffer.Length,
                    (ushort)(flags | (last ? 0 : VringLayout.DescriptorFlagNext)), last ? (ushort)0 : (ushort)(i + 1));
            }

            WriteDescriptor(_rings.Descriptor(head), table, (uint)(count * VringLayout.DescriptorSize), VringLayout.DescriptorFlagIndirect, 0);
        }
        else
        {
            head = TakeDescriptors(count);
            ushort index = head;
            for (int i = 0; i < count; i++)
            {
                (GuestBuffer buffer, ushort flags) = BufferAt(readable, writable, i);
                bool last = i == count - 1;
                WriteDescriptor(_rings.Descriptor(index), buffer.Address, buffer.Length,
                    (ushort)(flags | (last ? 0 : VringLayout.DescriptorFlagNext)), last ? (ushort)0 : _nextFree[index]);
                index = _nextFree[index];
            }
        }

        int slot = _availableIndex & (Size - 1);
        BinaryPrimitives.WriteUInt16LittleEndian(_rings.AvailableEntry(slot), head);
        _availableIndex++;

        // Release: the descriptors and ring entry are visible before the index that publishes them.
        Volatile.Write(ref _rings.AvailableIndex, _availableIndex);
        _added++;
        return head;
    }

    /// <summary>
    /// After one or more <see cref="Add"/> calls: whether the device wants a notification, honouring avail_event
    /// (EVENT_IDX) or VRING_USED_F_NO_NOTIFY. Resets the count of requests added since the last decision.
    /// </summary>
    public bool KickNeeded()
    {
        // The index store must be visible before reading the device's suppression state (store-load).
        Interlocked.MemoryBarrier();
        ushort newIndex = _availableIndex;
        ushort oldIndex = (ushort)(newIndex - _added);
        _added = 0;
        if (_eventIndex)
        {
            return VringLayout.NeedEvent(Volatile.Read(ref _rings.AvailableEvent), newIndex, oldIndex);
        }

        return (Volatile.Read(ref _rings.UsedFlags) & VringLayout.UsedFlagNoNotify) == 0;
    }

    /// <summary>Takes the next request the device returned: its head id and the bytes the device wrote.</summary>
    /// <exception cref="InvalidOperationException">The device returned an id that is not in flight.</exception>
    public bool TryGetUsed(out ushort head, out uint length)
    {
        // Acquire: the used element is read after the index that published it.
        if (Volatile.Read(ref _rings.UsedIndex) == _lastUsed)
        {
            head = 0;
            length = 0;
            return false;
        }

        int slot = _lastUsed & (Size - 1);
        ReadOnlySpan<byte> element = _rings.UsedElement(slot);
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(element);
        length = BinaryPrimitives.ReadUInt32LittleEndian(element[VringLayout.UsedElementLengthOffset..]);
        if (id >= Size || !_inUse[id])
        {
            throw new InvalidOperationException($"The device returned descriptor {id}, which is not in flight.");
        }

        head = (ushort)id;
        ReleaseChain(head);
        _lastUsed++;
        if (_eventIndex && (_availableFlags & VringLayout.AvailableFlagNoInterrupt) == 0)
        {
            // Ask for an interrupt when the device uses the next entry.
            Volatile.Write(ref _rings.UsedEvent, _lastUsed);
            Interlocked.MemoryBarrier();
        }

        return true;
    }

    /// <summary>Asks the device not to interrupt (VRING_AVAIL_F_NO_INTERRUPT, or a used_event already passed).</summary>
    public void DisableInterrupts()
    {
        _availableFlags |= VringLayout.AvailableFlagNoInterrupt;
        if (_eventIndex)
        {
            // An event index the device has already passed: vring_need_event stays false.
            Volatile.Write(ref _rings.UsedEvent, (ushort)(_lastUsed - 1));
        }
        else
        {
            Volatile.Write(ref _rings.AvailableFlags, _availableFlags);
        }
    }

    /// <summary>Asks the device to interrupt again for the next used request. Check <see cref="HasPendingUsed"/> after.</summary>
    public void EnableInterrupts()
    {
        _availableFlags &= unchecked((ushort)~VringLayout.AvailableFlagNoInterrupt);
        if (_eventIndex)
        {
            Volatile.Write(ref _rings.UsedEvent, _lastUsed);
        }
        else
        {
            Volatile.Write(ref _rings.AvailableFlags, _availableFlags);
        }

        // The request to be interrupted must be visible before the caller re-checks the used index.
        Interlocked.MemoryBarrier();
    }

    private static (GuestBuffer Buffer, ushort Flags) BufferAt(ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable, int i) =>
        i < readable.Length ? (readable[i], (ushort)0) : (writable[i - readable.Length], VringLayout.DescriptorFlagWrite);

    private static void WriteDescriptor(Span<byte> descriptor, ulong address, uint length, ushort flags, ushort next)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(descriptor[VringLayout.DescriptorAddressOffset..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[VringLayout.DescriptorLengthOffset..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[VringLayout.DescriptorFlagsOffset..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(descriptor[VringLayout.DescriptorNextOffset..], next);
    }

    private ushort TakeDescriptors(int count)
    {
        if (count > _freeCount)
        {
            throw new InvalidOperationException($"The queue is full: {count} descriptors wanted, {_freeCount} free.");
        }

        ushort head = _freeHead;
        ushort index = head;
        for (int i = 0; i < count; i++)
        {
            index = _nextFree[index];
        }

        _freeHead = index;
        _freeCount -= count;
        _chainLength[head] = (ushort)count;
        _inUse[head] = true;
        return head;
    }

    private void ReleaseChain(ushort head)
    {
        // The chain's descriptors are linked through _nextFree in the order they were taken.
        ushort last = head;
        for (int i = 1; i < _chainLength[head]; i++)
        {
            last = _nextFree[last];
        }

        _nextFree[last] = _freeHead;
        _freeHead = head;
        _freeCount += _chainLength[head];
        _inUse[head] = false;
    }

    private byte* Pin(ulong address, int length)
    {
        Span<byte> span = Memory.GetSpan(address, length);
        span.Clear();
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
    }
}
