using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace Vmm.Fixtures.UndeclaredDevicePlugin;

/// <summary>A plugin whose factory reports a device type its manifest does not declare.</summary>
public sealed class FixturePlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
        => services.AddSingleton<IDeviceFactory, UndeclaredFactory>();
}

/// <summary>Reports "undeclared-device" while the manifest says "declared-device".</summary>
public sealed class UndeclaredFactory : DeviceFactory<UndeclaredOptions>
{
    /// <inheritdoc />
    public override string DeviceType => "undeclared-device";

    /// <inheritdoc />
    public override string Description => "Test fixture.";

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, UndeclaredOptions options)
        => throw new NotSupportedException("fixture");
}

/// <summary>No options.</summary>
public sealed class UndeclaredOptions
{
}
