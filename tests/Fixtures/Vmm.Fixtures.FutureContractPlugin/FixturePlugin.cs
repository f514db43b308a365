using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Plugins;

namespace Vmm.Fixtures.FutureContractPlugin;

/// <summary>A plugin whose manifest targets contract 3.0; the host must refuse it before loading this code.</summary>
public sealed class FixturePlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
        => throw new InvalidOperationException("fixture: a 3.0 plugin must never be run by a 2.x host");
}
