using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Plugins;
using Vmm.Fixtures.Library;

namespace Vmm.Fixtures.MissingDependencyPlugin;

/// <summary>A plugin whose dependency (Vmm.Fixtures.Library.dll) the test deletes from its folder.</summary>
public sealed class FixturePlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
        => services.AddSingleton(new FixtureService());
}
