using System.Diagnostics.CodeAnalysis;

namespace Vmm.Core.Hosting;

/// <summary>
/// A platform that <c>"platform": "auto"</c> may pass over even when it is available: for example KVM on a host
/// that emulates guest ring 0, where an explicit <c>"kvm"</c> still runs (small payloads) but a Linux guest would
/// not get out of its decompressor. <see cref="VmPlatformSelector"/> asks it only for <c>auto</c>.
/// </summary>
public interface IAutoSelectablePlatform : IVmPlatform
{
    /// <summary>Whether <c>auto</c> should pick this platform here; <paramref name="reason"/> says why not.</summary>
    bool SuitsAuto([NotNullWhen(false)] out string? reason);
}
