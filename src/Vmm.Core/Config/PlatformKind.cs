namespace Vmm.Core.Config;

/// <summary>The platform a VM config asks for.</summary>
public enum PlatformKind
{
    /// <summary>The best available platform: KVM when it can run the guest, otherwise QEMU.</summary>
    Auto,

    /// <summary>Our own KVM microVM.</summary>
    Kvm,

    /// <summary>QEMU running the devices over vhost-user.</summary>
    Qemu,
}
