using System.Diagnostics.CodeAnalysis;
using Vmm.Core.Config;

namespace Vmm.Core.Hosting;

/// <summary>Stands in for a platform this build does not have yet, so selection and messages work end to end.</summary>
public sealed class UnavailablePlatform : IVmPlatform
{
    private readonly string _reason;

    /// <summary>Creates a placeholder named <paramref name="name"/>.</summary>
    public UnavailablePlatform(string name, PlatformKind kind, string? reason = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Kind = kind;
        _reason = reason ?? $"platform '{name}' is not available in this build yet";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public PlatformKind Kind { get; }

    /// <inheritdoc />
    public bool IsAvailable([NotNullWhen(false)] out string? reason)
    {
        reason = _reason;
        return false;
    }

    /// <inheritdoc />
    public Task<VmRunResult> RunAsync(VmSpec spec, VmRunContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException(_reason);
}
