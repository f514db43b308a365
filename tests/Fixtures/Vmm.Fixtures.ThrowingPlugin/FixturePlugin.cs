using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Plugins;

namespace Vmm.Fixtures.ThrowingPlugin;

/// <summary>A plugin with a bug: it throws while registering its services.</summary>
public sealed class FixturePlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
        => throw new InvalidOperationException("fixture: registration is broken");
}
