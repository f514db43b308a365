using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Vmm.Plugins.Ivshmem.SharedMemory;

/// <summary>An <c>mmap</c>ed range, unmapped when released.</summary>
internal sealed unsafe class MappedMemoryHandle : SafeHandle
{
    private readonly long _length;

    /// <summary>Owns the mapping at <paramref name="address"/> of <paramref name="length"/> bytes.</summary>
    public MappedMemoryHandle(void* address, long length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)address);
        _length = length;
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, (size_t)(ulong)_length) == 0;
}
