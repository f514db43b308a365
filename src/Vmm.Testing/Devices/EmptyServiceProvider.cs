namespace Vmm.Testing.Devices;

/// <summary>
/// A service provider with no services: what a device factory gets in a test that creates a device without a VM
/// (no routers, no time provider; factories fall back to their defaults).
/// </summary>
public sealed class EmptyServiceProvider : IServiceProvider
{
    private EmptyServiceProvider()
    {
    }

    /// <summary>The one instance.</summary>
    public static EmptyServiceProvider Instance { get; } = new();

    /// <inheritdoc />
    public object? GetService(Type serviceType) => null;
}
