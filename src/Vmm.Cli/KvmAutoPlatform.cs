using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Config;
using Vmm.Core.Hosting;

namespace Vmm.Cli;

/// <summary>
/// The <c>kvm</c> platform as the CLI offers it: <c>"kvm"</c> always runs on it where /dev/kvm works, but
/// <c>"auto"</c> picks it only where the (cached) ring-0 probe says guest kernels run natively.
/// </summary>
internal sealed class KvmAutoPlatform(IVmPlatform kvm, Func<KvmHostFacts> probe) : IAutoSelectablePlatform
{
    public string Name => kvm.Name;

    public PlatformKind Kind => kvm.Kind;

    public bool IsAvailable([NotNullWhen(false)] out string? reason) => kvm.IsAvailable(out reason);

    public bool SuitsAuto([NotNullWhen(false)] out string? reason)
    {
        KvmHostFacts facts = probe();
        reason = facts.RunsGuestKernelsNatively ? null : $"platform 'kvm' is not chosen by auto: this host's KVM does not run guest kernels natively ({facts.Explanation})";
        return reason is null;
    }

    public Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken) =>
        kvm.RunAsync(spec, context, cancellationToken);
}
