using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmm.Interop;

/// <summary>Owns the shared mapping of a vCPU's <c>kvm_run</c> area; unmapped exactly once on release.</summary>
internal sealed class SafeKvmRunHandle : SafeHandle
{
    private SafeKvmRunHandle(nint address, nuint length)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>The mapped length (KVM_GET_VCPU_MMAP_SIZE).</summary>
    public nuint Length { get; }

    /// <summary>The <c>kvm_run</c> header and exit union, read and written in place (the kernel shares this page).</summary>
    public unsafe ref global::Interop.Kvm.kvm_run Run => ref *(global::Interop.Kvm.kvm_run*)handle;

    /// <summary>The data of a KVM_EXIT_IO: <paramref name="length"/> bytes at <paramref name="dataOffset"/> in the mapping.</summary>
    /// <returns>The span, or an empty span when the kernel's offsets do not fit the mapping.</returns>
    public unsafe Span<byte> GetIoData(ulong dataOffset, uint length)
    {
        if (dataOffset > Length || length > Length - dataOffset)
        {
            return default;
        }

        return new Span<byte>((byte*)handle + dataOffset, (int)length);
    }

    /// <summary>The data bytes of a KVM_EXIT_MMIO (at most 8).</summary>
    public unsafe Span<byte> GetMmioData(uint length)
    {
        global::Interop.Kvm.kvm_run* run = (global::Interop.Kvm.kvm_run*)handle;
        return new Span<byte>(run->exit.mmio.data, (int)Math.Min(length, 8u));
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1 || handle == 0;

    /// <summary>Maps <paramref name="length"/> bytes of a vCPU fd, shared and read-write.</summary>
    public static SafeKvmRunHandle Map(SafeFileHandle vcpu, nuint length)
    {
        nint address = global::Interop.Mmap(0, length, global::Interop.PROT_READ | global::Interop.PROT_WRITE, global::Interop.MAP_SHARED, vcpu, 0);
        if (address == global::Interop.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(kvm_run)");
        }

        return new SafeKvmRunHandle(address, length);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => global::Interop.Munmap(handle, Length) == 0;
}
