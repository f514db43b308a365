using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;

namespace Vmm.Core.Virtio.Queues;

/// <summary>
/// The device side of a split virtqueue (virtio 1.2 §2.7). The transport configures size and ring addresses,
/// then <see cref="Enable"/> checks the placement and caches pointers into the rings, so the request path does
/// no region lookup and allocates nothing: chains come from a pool of <see cref="Size"/> objects.
/// </summary>
/// <remarks>
/// Every guest-controlled value is copied out once and then validated; a violation throws
/// <see cref="VirtioProtocolException"/> and nothing outside guest memory is touched. The ring indices are
/// accessed through <see cref="Volatile"/> in host byte order, which is why the type refuses to run on a
/// big-endian host (virtio rings are little-endian).
/// </remarks>
public sealed unsafe class SplitVirtqueue : IVirtqueue
{
    private readonly IGuestMemory _memory;
    private readonly IInterruptLine _interrupt;

    private DescriptorChain[] _allChains = [];
    private DescriptorChain[] _freeChains = [];

    // The chain in flight for each head index: Push takes back only the very chain TryPop gave out for that
    // head, so a chain from another queue, or one pushed twice, cannot corrupt the pool or the used ring.
    private DescriptorChain?[] _inFlightByHead = [];
    private int _freeChainCount;

    private VringPointers _rings;
    private bool _eventIndex;
    private bool _indirect;
    private bool _notificationsEnabled = true;
    private ushort _signalledUsed;
    private bool _signalledUsedValid;
    private bool _pushedSinceNotify;

    static SplitVirtqueue()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The virtqueue reads ring indices in host byte order and needs a little-endian host.");
        }
    }

    /// <summary>Creates an unconfigured queue whose size is at most <paramref name="maxSize"/> (a power of two).</summary>
    public SplitVirtqueue(IGuestMemory memory, int index, ushort maxSize, IInterruptLine interrupt)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(interrupt);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        VringLayout.ThrowIfInvalidQueueSize(maxSize);

        _memory = memory;
        _interrupt = interrupt;
        Index = index;
        MaxSize = maxSize;
        Size = maxSize;
    }

    /// <inheritdoc/>
    public int Index { get; }

    /// <summary>The largest size the device offers (queue_size before the driver writes it).</summary>
    public ushort MaxSize { get; }

    /// <inheritdoc/>
    public ushort Size { get; private set; }

    /// <inheritdoc/>
    public bool IsReady { get; private set; }

    /// <summary>The guest physical address of the descriptor table; takes effect at <see cref="Enable"/>.</summary>
    public ulong DescriptorTableAddress { get; set; }

    /// <summary>The guest physical address of the available (driver) ring; takes effect at <see cref="Enable"/>.</summary>
    public ulong AvailableRingAddress { get; set; }

    /// <summary>The guest physical address of the used (device) ring; takes effect at <see cref="Enable"/>.</summary>
    public ulong UsedRingAddress { get; set; }

    /// <summary>The free-running index of the next available-ring entry to take (vhost-user GET/SET_VRING_BASE).</summary>
    public ushort NextAvailableIndex { get; set; }

    /// <summary>The free-running index of the next used-ring entry to fill.</summary>
    public ushort NextUsedIndex { get; set; }

    /// <summary>Requests taken with <see cref="TryPop"/> and not yet pushed back.</summary>
    public int InFlight => _allChains.Length - _freeChainCount;

    /// <summary>Sets the queue size the driver chose: a power of two from 1 to <see cref="MaxSize"/>, only while not ready.</summary>
    public bool TrySetSize(ushort size)
    {
        if (IsReady || size == 0 || size > MaxSize || !ushort.IsPow2(size))
        {
            return false;
        }

        Size = size;
        return true;
    }

    /// <summary>
    /// Makes the queue live: checks that the three ring parts are aligned (16/2/4) and lie wholly inside guest
    /// memory, caches pointers to them, and takes the ring features from <paramref name="negotiatedFeatures"/>.
    /// </summary>
    /// <exception cref="VirtioProtocolException">A ring is misplaced.</exception>
    public void Enable(ulong negotiatedFeatures)
    {
        if (IsReady)
        {
            throw new InvalidOperationException($"Queue {Index} is already enabled.");
        }

        int size = Size;
        _rings = new VringPointers(
            MapRing("descriptor table", DescriptorTableAddress, VringLayout.DescriptorTableAlignment, VringLayout.DescriptorTableBytes(size)),
            MapRing("available ring", AvailableRingAddress, VringLayout.AvailableRingAlignment, VringLayout.AvailableRingBytes(size)),
            MapRing("used ring", UsedRingAddress, VringLayout.UsedRingAlignment, VringLayout.UsedRingBytes(size)),
            size);
        _eventIndex = (negotiatedFeatures & VirtioFeatures.RingEventIndex) != 0;
        _indirect = (negotiatedFeatures & VirtioFeatures.RingIndirectDescriptors) != 0;
        EnsureChainPool(size);
        _notificationsEnabled = true;
        _signalledUsedValid = false;
        _pushedSinceNotify = false;
        IsReady = true;

        // Ask for kicks from the start. A fresh ring reads so already (zeroed); a ring restarted where it stopped
        // (vhost-user GET_VRING_BASE, then SET_VRING_BASE) may still say "do not kick" from a poll cut short.
        if (_eventIndex)
        {
            Volatile.Write(ref _rings.AvailableEvent, NextAvailableIndex);
        }
        else
        {
            Volatile.Write(ref _rings.UsedFlags, (ushort)(Volatile.Read(ref _rings.UsedFlags) & ~VringLayout.UsedFlagNoNotify));
        }
    }

    /// <summary>Returns the queue to its unconfigured state (queue reset or device reset). In-flight chains are dropped.</summary>
    public void Reset()
    {
        IsReady = false;
        Size = MaxSize;
        DescriptorTableAddress = 0;
        AvailableRingAddress = 0;
        UsedRingAddress = 0;
        NextAvailableIndex = 0;
        NextUsedIndex = 0;
        _rings = default;
        _eventIndex = false;
        _indirect = false;
        _notificationsEnabled = true;
        _signalledUsed = 0;
        _signalledUsedValid = false;
        _pushedSinceNotify = false;
        Array.Copy(_allChains, _freeChains, _allChains.Length);
        _freeChainCount = _allChains.Length;
        Array.Clear(_inFlightByHead);
    }

    /// <inheritdoc/>
    public bool TryPop([NotNullWhen(true)] out DescriptorChain? chain)
    {
        chain = null;
        if (!IsReady)
        {
            return false;
        }

        // Acquire: the ring entry and descriptors are read after the index that published them.
        ushort availableIndex = Volatile.Read(ref _rings.AvailableIndex);
        ushort pending = (ushort)(availableIndex - NextAvailableIndex);
        if (pending == 0)
        {
            return false;
        }

        if (pending > Size)
        {
            VirtqueueErrors.ThrowAvailableIndexJump(Index, pending, Size);
        }

        int slot = NextAvailableIndex & (Size - 1);
        ushort head = BinaryPrimitives.ReadUInt16LittleEndian(_rings.AvailableEntry(slot));
        if (head >= Size)
        {
            VirtqueueErrors.ThrowDescriptorIndex(Index, head, Size);
        }

        if (_freeChainCount == 0)
        {
            VirtqueueErrors.ThrowTooManyInFlight(Index, Size);
        }

        if (_inFlightByHead[head] is not null)
        {
            VirtqueueErrors.ThrowHeadInFlight(Index, head);
        }

        DescriptorChain taken = _freeChains[--_freeChainCount];
        try
        {
            taken.Reset(head);
            WalkChain(taken, head);
        }
        catch
        {
            _freeChains[_freeChainCount++] = taken;
            throw;
        }

        _inFlightByHead[head] = taken;
        NextAvailableIndex++;
        if (_eventIndex && _notificationsEnabled)
        {
            // Ask for a kick when the driver publishes past what we have taken.
            Volatile.Write(ref _rings.AvailableEvent, NextAvailableIndex);
        }

        chain = taken;
        return true;
    }

    /// <inheritdoc/>
    public void Push(DescriptorChain chain, uint bytesWritten)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (!IsReady)
        {
            throw new InvalidOperationException($"Queue {Index} is not enabled.");
        }

        if (chain.HeadIndex >= _inFlightByHead.Length || !ReferenceEquals(_inFlightByHead[chain.HeadIndex], chain))
        {
            throw new InvalidOperationException($"The chain was not taken from queue {Index}, or was already pushed.");
        }

        if (bytesWritten > chain.WritableLength)
        {
            throw new ArgumentOutOfRangeException(nameof(bytesWritten), bytesWritten, $"The chain has only {chain.WritableLength} writable bytes.");
        }

        int slot = NextUsedIndex & (Size - 1);
        Span<byte> element = _rings.UsedElement(slot);
        BinaryPrimitives.WriteUInt32LittleEndian(element, chain.HeadIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(element[VringLayout.UsedElementLengthOffset..], bytesWritten);
        NextUsedIndex++;
        _pushedSinceNotify = true;

        // Release: the element is visible before the index that publishes it.
        Volatile.Write(ref _rings.UsedIndex, NextUsedIndex);
        _inFlightByHead[chain.HeadIndex] = null;
        _freeChains[_freeChainCount++] = chain;
    }

    /// <inheritdoc/>
    public void NotifyGuest()
    {
        if (!IsReady)
        {
            return;
        }

        if (!_pushedSinceNotify)
        {
            return;
        }

        _pushedSinceNotify = false;
        ushort newIndex = NextUsedIndex;
        ushort oldIndex = _signalledUsed;

        // The used index store must be visible before we read the driver's used_event or flags (store-load).
        Interlocked.MemoryBarrier();
        bool signal;
        if (_eventIndex)
        {
            ushort usedEvent = Volatile.Read(ref _rings.UsedEvent);
            signal = !_signalledUsedValid || VringLayout.NeedEvent(usedEvent, newIndex, oldIndex);
        }
        else
        {
            signal = (Volatile.Read(ref _rings.AvailableFlags) & VringLayout.AvailableFlagNoInterrupt) == 0;
        }

        _signalledUsed = newIndex;
        _signalledUsedValid = true;
        if (signal)
        {
            _interrupt.Signal();
        }
    }

    /// <inheritdoc/>
    public void DisableNotifications()
    {
        if (!IsReady || !_notificationsEnabled)
        {
            return;
        }

        _notificationsEnabled = false;
        if (_eventIndex)
        {
            // An avail_event the driver has already passed: its next publish does not cross it, so it kicks no more
            // (leaving it where TryPop put it would cost one more kick, for the very next request).
            Volatile.Write(ref _rings.AvailableEvent, (ushort)(NextAvailableIndex - 1));
        }
        else
        {
            Volatile.Write(ref _rings.UsedFlags, (ushort)(Volatile.Read(ref _rings.UsedFlags) | VringLayout.UsedFlagNoNotify));
        }
    }

    /// <inheritdoc/>
    public bool EnableNotifications()
    {
        if (!IsReady)
        {
            return false;
        }

        _notificationsEnabled = true;
        if (_eventIndex)
        {
            Volatile.Write(ref _rings.AvailableEvent, NextAvailableIndex);
        }
        else
        {
            Volatile.Write(ref _rings.UsedFlags, (ushort)(Volatile.Read(ref _rings.UsedFlags) & ~VringLayout.UsedFlagNoNotify));
        }

        // The flag / avail_event store must be visible before we look at the available index again; otherwise a
        // request the driver added without kicking could sit there until the next kick.
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _rings.AvailableIndex) != NextAvailableIndex;
    }

    private void WalkChain(DescriptorChain chain, ushort head)
    {
        int size = Size;
        ulong total = 0;
        ushort index = head;
        int walked = 0;
        while (true)
        {
            // Copy the descriptor out once; validate the copy (the guest may rewrite the table meanwhile).
            ReadOnlySpan<byte> raw = _rings.Descriptor(index);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(raw[VringLayout.DescriptorAddressOffset..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(raw[VringLayout.DescriptorLengthOffset..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(raw[VringLayout.DescriptorFlagsOffset..]);
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(raw[VringLayout.DescriptorNextOffset..]);

            if ((flags & VringLayout.DescriptorFlagIndirect) != 0)
            {
                if (!_indirect)
                {
                    VirtqueueErrors.Throw(Index, "uses an indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC");
                }

                if ((flags & VringLayout.DescriptorFlagNext) != 0)
                {
                    VirtqueueErrors.Throw(Index, "sets both INDIRECT and NEXT on one descriptor");
                }

                WalkIndirectTable(chain, address, length, ref total);
                return;
            }

            AddBuffer(chain, address, length, flags, ref total);
            if ((flags & VringLayout.DescriptorFlagNext) == 0)
            {
                return;
            }

            if (next >= size)
            {
                VirtqueueErrors.ThrowDescriptorIndex(Index, next, size);
            }

            if (++walked >= size)
            {
                VirtqueueErrors.Throw(Index, "has a descriptor chain longer than the queue (a loop)");
            }

            index = next;
        }
    }

    private void WalkIndirectTable(DescriptorChain chain, ulong tableAddress, uint tableLength, ref ulong total)
    {
        if (tableLength == 0 || tableLength % VringLayout.DescriptorSize != 0 || tableLength / VringLayout.DescriptorSize > (uint)Size)
        {
            VirtqueueErrors.Throw(Index, $"has an indirect table of {tableLength} bytes (needs a non-zero multiple of 16, at most {Size} entries)");
        }

        if (!_memory.TryGetSpan(tableAddress, (int)tableLength, out Span<byte> table))
        {
            VirtqueueErrors.Throw(Index, $"has an indirect table at 0x{tableAddress:x}+0x{tableLength:x} outside guest memory");
        }

        int count = (int)(tableLength / VringLayout.DescriptorSize);
        int index = 0;
        int walked = 0;
        while (true)
        {
            ReadOnlySpan<byte> raw = table.Slice(index * VringLayout.DescriptorSize, VringLayout.DescriptorSize);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(raw[VringLayout.DescriptorAddressOffset..]);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(raw[VringLayout.DescriptorLengthOffset..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(raw[VringLayout.DescriptorFlagsOffset..]);
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(raw[VringLayout.DescriptorNextOffset..]);
            if ((flags & VringLayout.DescriptorFlagIndirect) != 0)
            {
                VirtqueueErrors.Throw(Index, "has an indirect descriptor inside an indirect table");
            }

            AddBuffer(chain, address, length, flags, ref total);
            if ((flags & VringLayout.DescriptorFlagNext) == 0)
            {
                return;
            }

            if (next >= count)
            {
                VirtqueueErrors.Throw(Index, $"has an indirect descriptor pointing at entry {next} of a {count}-entry table");
            }

            if (++walked >= count)
            {
                VirtqueueErrors.Throw(Index, "has an indirect chain longer than its table (a loop)");
            }

            index = next;
        }
    }

    private void AddBuffer(DescriptorChain chain, ulong address, uint length, ushort flags, ref ulong total)
    {
        if (length == 0)
        {
            VirtqueueErrors.Throw(Index, $"has a zero-length buffer at 0x{address:x}");
        }

        if (!_memory.IsValidRange(address, length))
        {
            VirtqueueErrors.Throw(Index, $"has a buffer 0x{address:x}+0x{length:x} outside guest memory");
        }

        total += length;
        if (total > uint.MaxValue)
        {
            VirtqueueErrors.Throw(Index, "has a chain longer than 4 GiB");
        }

        var buffer = new GuestBuffer(address, length);
        if ((flags & VringLayout.DescriptorFlagWrite) != 0)
        {
            chain.AddWritable(buffer);
        }
        else
        {
            if (chain.WritableLength != 0)
            {
                VirtqueueErrors.Throw(Index, "has a device-readable buffer after a device-writable one");
            }

            chain.AddReadable(buffer);
        }
    }

    private byte* MapRing(string part, ulong address, ulong alignment, int length)
    {
        if ((address & (alignment - 1)) != 0)
        {
            VirtqueueErrors.Throw(Index, $"places its {part} at 0x{address:x}, which is not {alignment}-byte aligned");
        }

        if (!_memory.TryGetSpan(address, length, out Span<byte> span))
        {
            VirtqueueErrors.Throw(Index, $"places its {part} at 0x{address:x}+0x{length:x}, outside guest memory (or across regions)");
        }

        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
    }

    private void EnsureChainPool(int size)
    {
        if (_allChains.Length < size)
        {
            var chains = new DescriptorChain[size];
            Array.Copy(_allChains, chains, _allChains.Length);
            for (int i = _allChains.Length; i < size; i++)
            {
                chains[i] = new DescriptorChain(_memory);
            }

            _allChains = chains;
            _freeChains = new DescriptorChain[size];
            _inFlightByHead = new DescriptorChain?[size];
        }

        Array.Copy(_allChains, _freeChains, _allChains.Length);
        _freeChainCount = _allChains.Length;
        Array.Clear(_inFlightByHead);
    }
}
