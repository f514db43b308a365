using Vmm.Core.Config;
using Vmm.Core.Hosting;

namespace Vmm.Cli;

/// <summary>
/// The platforms of this build. None can run a VM yet: the KVM and QEMU platforms replace these placeholders
/// as they land. <c>auto</c> prefers KVM where /dev/kvm exists.
/// </summary>
internal static class DefaultPlatforms
{
    /// <summary>The platforms, in the order <c>auto</c> tries them.</summary>
    public static IReadOnlyList<IVmPlatform> Create()
    {
        IVmPlatform kvm = new UnavailablePlatform("kvm", PlatformKind.Kvm);
        IVmPlatform qemu = new UnavailablePlatform("qemu", PlatformKind.Qemu);
        return File.Exists("/dev/kvm") ? [kvm, qemu] : [qemu, kvm];
    }
}
