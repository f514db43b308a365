using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Kvm.Platform;

namespace Vmm.Cli;

/// <summary>
/// The platforms of this build: <c>kvm</c> (the guest's COM1 on this process's stdout/stdin) and a placeholder for
/// <c>qemu</c> until it is wired in. <c>auto</c> prefers KVM where /dev/kvm exists.
/// </summary>
internal static class DefaultPlatforms
{
    /// <summary>The platforms, in the order <c>auto</c> tries them.</summary>
    public static IReadOnlyList<IVmPlatform> Create()
    {
        IVmPlatform kvm = new KvmPlatform(new KvmPlatformOptions { ConsoleOutput = Console.OpenStandardOutput(), ConsoleInput = Console.OpenStandardInput() });
        IVmPlatform qemu = new UnavailablePlatform("qemu", PlatformKind.Qemu);
        return File.Exists("/dev/kvm") ? [kvm, qemu] : [qemu, kvm];
    }
}
