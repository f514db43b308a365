using System.Runtime.InteropServices;

namespace Vmm.Interop;

/// <summary>An mmap'ed range of the process's address space; released with munmap of the whole length.</summary>
internal sealed class SafeMemoryMapping : SafeHandle
{
    /// <summary>Creates an invalid mapping (for the marshaller and for failure paths).</summary>
    public SafeMemoryMapping()
        : base(global::Interop.MAP_FAILED, ownsHandle: true)
    {
    }

    internal SafeMemoryMapping(nint address, ulong length)
        : base(global::Interop.MAP_FAILED, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>The length of the mapping in bytes.</summary>
    public ulong Length { get; }

    /// <summary>The first address of the mapping. Valid until the handle is released.</summary>
    public nint Address => handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == global::Interop.MAP_FAILED || handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => global::Interop.Munmap(handle, (nuint)Length) == 0;
}
