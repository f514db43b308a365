using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Config;
using Vmm.Core.Hosting;

namespace Vmm.Cli;

/// <summary>
/// A platform made on first use: a <c>vmm run</c> on the kvm platform does not pay for loading and setting up the
/// qemu platform (its assembly, the guest-image folder probes) before its first vCPU entry.
/// </summary>
internal sealed class DeferredPlatform(string name, PlatformKind kind, Func<IVmPlatform> create) : IVmPlatform
{
    private readonly Lazy<IVmPlatform> _platform = new(create, LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => name;

    public PlatformKind Kind => kind;

    public bool IsAvailable([NotNullWhen(false)] out string? reason) => _platform.Value.IsAvailable(out reason);

    public Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken) =>
        _platform.Value.RunAsync(spec, context, cancellationToken);
}
