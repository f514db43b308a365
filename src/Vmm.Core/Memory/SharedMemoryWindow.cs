using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Interop;

namespace Vmm.Core.Memory;

/// <summary>
/// A device's shared-memory window (virtio-fs DAX, virtio-gpu host-visible): address space reserved
/// inaccessible, into which file pages are mapped and unmapped while the guest runs. A platform exposes
/// <see cref="HostAddress"/> to the guest (a KVM memory slot, a vhost-user shared-memory region).
/// </summary>
public sealed class SharedMemoryWindow : ISharedMemoryRegion, IDisposable
{
    private readonly SafeMemoryMapping _reservation;
    private readonly Lock _sync = new();

    /// <summary>Reserves a window of <paramref name="size"/> bytes (page aligned, not zero).</summary>
    public SharedMemoryWindow(byte id, ulong size)
    {
        if (size == 0 || !HostMemory.IsPageAligned(size))
        {
            throw new ArgumentException($"A shared-memory window must be a non-zero multiple of the page size (0x{HostMemory.PageSize:x}); got 0x{size:x}.", nameof(size));
        }

        Id = id;
        Size = size;
        _reservation = HostMemory.ReserveInaccessible(size);
    }

    /// <inheritdoc/>
    public byte Id { get; }

    /// <inheritdoc/>
    public ulong Size { get; }

    /// <summary>Where the window starts in this process.</summary>
    public nint HostAddress => _reservation.Address;

    /// <inheritdoc/>
    public void MapFile(ulong offset, SafeFileHandle file, long fileOffset, ulong length, bool writable)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(fileOffset);
        if (!HostMemory.IsPageAligned((ulong)fileOffset))
        {
            throw new ArgumentException($"File offset 0x{fileOffset:x} is not page aligned.", nameof(fileOffset));
        }

        CheckRange(offset, length);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_reservation.IsClosed, this);
            HostMemory.MapSharedFixed(_reservation.Address + (nint)offset, length, file, fileOffset, writable);
        }
    }

    /// <inheritdoc/>
    public void Unmap(ulong offset, ulong length)
    {
        CheckRange(offset, length);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_reservation.IsClosed, this);
            HostMemory.MakeInaccessibleFixed(_reservation.Address + (nint)offset, length);
        }
    }

    /// <summary>Unmaps the whole window.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            _reservation.Dispose();
        }
    }

    private void CheckRange(ulong offset, ulong length)
    {
        if (!HostMemory.IsPageAligned(offset) || !HostMemory.IsPageAligned(length) || length == 0)
        {
            throw new ArgumentException($"Window range 0x{offset:x}+0x{length:x} must be page aligned and not empty.", nameof(length));
        }

        if (offset > Size || length > Size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"Window range 0x{offset:x}+0x{length:x} exceeds the window's 0x{Size:x} bytes.");
        }
    }
}
