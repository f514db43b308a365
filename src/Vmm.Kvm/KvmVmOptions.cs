namespace Vmm.Kvm;

/// <summary>How a KVM VM is laid out in guest physical space.</summary>
public sealed class KvmVmOptions
{
    /// <summary>
    /// Where KVM puts the real-mode TSS (3 pages, below 4 GiB, outside RAM); only used by Intel VMX without
    /// unrestricted guest. Firecracker's and cloud-hypervisor's address.
    /// </summary>
    public ulong TssAddress { get; init; } = 0xFFFB_D000;

    /// <summary>Where KVM puts the identity-map page for VMX real mode (1 page, just below the TSS).</summary>
    public ulong IdentityMapAddress { get; init; } = 0xFFFB_C000;
}
