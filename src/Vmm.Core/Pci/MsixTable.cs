using System.Buffers.Binary;
using Vmm.Core.Interrupts;

namespace Vmm.Core.Pci;

/// <summary>
/// An MSI-X table and pending-bit array (PCI 3.0 §6.8.2). Entries start masked. <see cref="Signal"/> delivers
/// through the entry's <see cref="IMsiVector"/> or, while the vector or the function is masked, sets the pending
/// bit; unmasking delivers a pending message. Safe from any thread.
/// </summary>
public sealed class MsixTable : IDisposable
{
    /// <summary>The size of one table entry.</summary>
    public const int EntrySize = 16;

    private const uint VectorControlMask = 1;

    private readonly object _lock = new();
    private readonly byte[] _entries;
    private readonly ulong[] _pending;
    private readonly IMsiVector[] _vectors;
    private bool _enabled;
    private bool _functionMasked;
    private long _droppedCount;

    /// <summary>Creates a table of <paramref name="vectorCount"/> entries with vectors from <paramref name="controller"/>.</summary>
    public MsixTable(int vectorCount, IMsiController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentOutOfRangeException.ThrowIfLessThan(vectorCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vectorCount, 2048);
        VectorCount = vectorCount;
        _entries = new byte[vectorCount * EntrySize];
        _pending = new ulong[(vectorCount + 63) / 64];
        _vectors = new IMsiVector[vectorCount];
        for (int i = 0; i < vectorCount; i++)
        {
            _vectors[i] = controller.CreateVector();
        }

        Reset();
    }

    /// <summary>The number of entries.</summary>
    public int VectorCount { get; }

    /// <summary>The table's size in bytes.</summary>
    public int TableSize => VectorCount * EntrySize;

    /// <summary>The pending-bit array's size in bytes (whole qwords).</summary>
    public int PendingBitArraySize => _pending.Length * 8;

    /// <summary>Whether the guest enabled MSI-X (message control bit 15).</summary>
    public bool Enabled
    {
        get
        {
            lock (_lock)
            {
                return _enabled;
            }
        }
    }

    /// <summary>Whether the guest masked the whole function (message control bit 14).</summary>
    public bool FunctionMasked
    {
        get
        {
            lock (_lock)
            {
                return _functionMasked;
            }
        }
    }

    /// <summary>Signals dropped because MSI-X was disabled (there is no INTx to fall back to).</summary>
    public long DroppedCount => Interlocked.Read(ref _droppedCount);

    /// <summary>Raises <paramref name="vector"/>: delivered now, or left pending while masked. Out-of-range vectors are ignored.</summary>
    public void Signal(int vector)
    {
        if ((uint)vector >= (uint)VectorCount)
        {
            return;
        }

        lock (_lock)
        {
            if (!_enabled)
            {
                _droppedCount++;
                return;
            }

            if (_functionMasked || IsMaskedLocked(vector))
            {
                _pending[vector >> 6] |= 1UL << (vector & 63);
                return;
            }

            _vectors[vector].Signal();
        }
    }

    /// <summary>Whether entry <paramref name="vector"/>'s own mask bit is set.</summary>
    public bool IsMasked(int vector)
    {
        lock (_lock)
        {
            return IsMaskedLocked(vector);
        }
    }

    /// <summary>Whether entry <paramref name="vector"/>'s pending bit is set.</summary>
    public bool IsPending(int vector)
    {
        lock (_lock)
        {
            return (_pending[vector >> 6] & (1UL << (vector & 63))) != 0;
        }
    }

    /// <summary>The message address and data programmed into entry <paramref name="vector"/>.</summary>
    public (ulong Address, uint Data) GetMessage(int vector)
    {
        lock (_lock)
        {
            ReadOnlySpan<byte> entry = _entries.AsSpan(vector * EntrySize, EntrySize);
            return (BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
        }
    }

    /// <summary>A guest read of the table; accesses outside it read 0.</summary>
    public void ReadTable(ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (_lock)
        {
            if (offset < (ulong)_entries.Length)
            {
                int start = (int)offset;
                int length = Math.Min(data.Length, _entries.Length - start);
                _entries.AsSpan(start, length).CopyTo(data);
            }
        }
    }

    /// <summary>A guest write of the table: reconfigures the touched vectors, delivers pending ones it unmasks.</summary>
    public void WriteTable(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset >= (ulong)_entries.Length)
        {
            return;
        }

        int start = (int)offset;
        int length = Math.Min(data.Length, _entries.Length - start);
        lock (_lock)
        {
            data[..length].CopyTo(_entries.AsSpan(start, length));
            int first = start / EntrySize;
            int last = (start + length - 1) / EntrySize;
            for (int vector = first; vector <= last; vector++)
            {
                ReadOnlySpan<byte> entry = _entries.AsSpan(vector * EntrySize, EntrySize);
                _vectors[vector].Configure(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
                DeliverIfUnmaskedLocked(vector);
            }
        }
    }

    /// <summary>A guest read of the pending-bit array.</summary>
    public void ReadPendingBitArray(ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (_lock)
        {
            Span<byte> bytes = stackalloc byte[8];
            for (int i = 0; i < data.Length; i++)
            {
                ulong at = offset + (ulong)i;
                if (at < (ulong)(_pending.Length * 8))
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, _pending[(int)(at / 8)]);
                    data[i] = bytes[(int)(at % 8)];
                }
            }
        }
    }

    /// <summary>Message control changed: the enable and function-mask bits. Unmasking delivers what is pending.</summary>
    public void SetControl(bool enabled, bool functionMasked)
    {
        lock (_lock)
        {
            _enabled = enabled;
            _functionMasked = functionMasked;
            if (enabled && !functionMasked)
            {
                for (int vector = 0; vector < VectorCount; vector++)
                {
                    DeliverIfUnmaskedLocked(vector);
                }
            }
        }
    }

    /// <summary>Back to the reset state: disabled, every entry masked and zeroed, nothing pending.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _enabled = false;
            _functionMasked = false;
            Array.Clear(_entries);
            Array.Clear(_pending);
            for (int vector = 0; vector < VectorCount; vector++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_entries.AsSpan((vector * EntrySize) + 12), VectorControlMask);
            }
        }
    }

    /// <summary>Disposes the vectors.</summary>
    public void Dispose()
    {
        foreach (IMsiVector vector in _vectors)
        {
            vector.Dispose();
        }
    }

    private bool IsMaskedLocked(int vector)
        => (BinaryPrimitives.ReadUInt32LittleEndian(_entries.AsSpan((vector * EntrySize) + 12)) & VectorControlMask) != 0;

    private void DeliverIfUnmaskedLocked(int vector)
    {
        ulong bit = 1UL << (vector & 63);
        if (_enabled && !_functionMasked && !IsMaskedLocked(vector) && (_pending[vector >> 6] & bit) != 0)
        {
            _pending[vector >> 6] &= ~bit;
            _vectors[vector].Signal();
        }
    }
}
