using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Config;

namespace Vmm.Core.Hosting;

/// <summary>
/// Something that can run a VM from a validated spec: our KVM microVM, or QEMU with the devices over vhost-user.
/// <c>vmm run</c> picks one with <see cref="VmPlatformSelector"/>.
/// </summary>
public interface IVmPlatform
{
    /// <summary>The platform's name as configs write it: <c>kvm</c>, <c>qemu</c>.</summary>
    string Name { get; }

    /// <summary>The config value that selects this platform.</summary>
    PlatformKind Kind { get; }

    /// <summary>Whether the platform can run a VM on this host; <paramref name="reason"/> says why not.</summary>
    bool IsAvailable([NotNullWhen(false)] out string? reason);

    /// <summary>
    /// Runs the VM until it stops (the guest powers off, <c>stop</c> arrives on the control socket, or
    /// <paramref name="cancellationToken"/> fires) and says how it ended.
    /// </summary>
    Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken);
}
