namespace Vmm.Qemu;

/// <summary>How QEMU runs guest code.</summary>
public enum QemuAccelerator
{
    /// <summary>KVM when the host runs guest kernels natively (ring-0 probe), otherwise TCG.</summary>
    Auto,

    /// <summary>Hardware virtualization.</summary>
    Kvm,

    /// <summary>QEMU's binary translator: slower, but runs anywhere.</summary>
    Tcg,
}
