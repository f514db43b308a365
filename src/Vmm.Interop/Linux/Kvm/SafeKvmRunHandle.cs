using System.Runtime.InteropServices;

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

    /// <inheritdoc/>
    public override bool IsInvalid => handle == -1 || handle == 0;

    /// <summary>Maps <paramref name="length"/> bytes of a vCPU fd, shared and read-write.</summary>
    public static SafeKvmRunHandle Map(SafeHandle vcpu, nuint length)
    {
        nint address = global::Interop.Kvm.MMap(0, length, global::Interop.Kvm.PROT_READ | global::Interop.Kvm.PROT_WRITE, global::Interop.Kvm.MAP_SHARED, vcpu, 0);
        if (address == global::Interop.Kvm.MAP_FAILED)
        {
            global::Interop.ThrowForLastError("mmap(kvm_run)");
        }

        return new SafeKvmRunHandle(address, length);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => global::Interop.Kvm.MUnmap(handle, Length) == 0;
}
