using Vmm.Contracts.Memory;

namespace Vmm.Testing.Virtio;

/// <summary>
/// A bump allocator over a range of guest memory, for the in-process driver's rings, indirect tables and
/// buffers. Nothing is ever freed; it throws when the range is exhausted.
/// </summary>
public sealed class GuestMemoryAllocator
{
    private readonly Lock _sync = new();
    private ulong _next;

    /// <summary>Allocates from [<paramref name="start"/>, <paramref name="end"/>), which must be backed by <paramref name="memory"/>.</summary>
    public GuestMemoryAllocator(IGuestMemory memory, ulong start, ulong end)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (end <= start || !memory.IsValidRange(start, end - start))
        {
            throw new ArgumentException($"Range 0x{start:x}..0x{end:x} is empty or not backed by guest memory.", nameof(end));
        }

        Memory = memory;
        Start = start;
        End = end;
        _next = start;
    }

    /// <summary>The memory allocations come from.</summary>
    public IGuestMemory Memory { get; }

    /// <summary>The first address the allocator hands out.</summary>
    public ulong Start { get; }

    /// <summary>The address one past the allocator's range.</summary>
    public ulong End { get; }

    /// <summary>Bytes not yet handed out (ignoring alignment padding to come).</summary>
    public ulong Remaining
    {
        get
        {
            lock (_sync)
            {
                return End - _next;
            }
        }
    }

    /// <summary>Returns the guest address of <paramref name="size"/> bytes aligned to <paramref name="alignment"/> (a power of two).</summary>
    /// <exception cref="InvalidOperationException">The range is exhausted.</exception>
    public ulong Allocate(ulong size, ulong alignment)
    {
        if (alignment == 0 || !ulong.IsPow2(alignment))
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "Alignment must be a power of two.");
        }

        ArgumentOutOfRangeException.ThrowIfZero(size);
        lock (_sync)
        {
            ulong aligned = (_next + alignment - 1) & ~(alignment - 1);
            if (aligned < _next || aligned > End || size > End - aligned)
            {
                throw new InvalidOperationException($"Guest memory allocator exhausted: 0x{size:x} bytes aligned to {alignment} do not fit in 0x{_next:x}..0x{End:x}.");
            }

            _next = aligned + size;
            return aligned;
        }
    }
}
