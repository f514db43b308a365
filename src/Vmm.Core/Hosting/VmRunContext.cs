using Microsoft.Extensions.Logging;
using Vmm.Core.Control;
using Vmm.Core.Plugins;

namespace Vmm.Core.Hosting;

/// <summary>What a platform gets besides the spec: logging, the loaded plugins, the control commands to extend.</summary>
/// <param name="LoggerFactory">Where loggers come from.</param>
/// <param name="Plugins">The plugins the spec's device factories come from.</param>
/// <param name="ControlCommands">
/// The commands the VM's control socket answers; the platform adds <c>status</c> and <c>stop</c> for its VM
/// (and whatever else it supports) and serves them when the spec has a control section.
/// </param>
public sealed record VmRunContext(ILoggerFactory LoggerFactory, IPluginCatalog Plugins, ControlCommandRegistry ControlCommands)
{
    private VmRouters? _routers;

    /// <summary>
    /// The VM's input and display routers. They must be the instances the plugins' containers were seeded with
    /// (<see cref="VmRouters.SharedServices"/>); the default is a fresh pair for catalogs that are not a plugin host.
    /// </summary>
    /// <remarks>
    /// The default is made on first use, not by an initializer: an initializer would run before <c>init</c> replaced
    /// it, and a host that runs VM after VM with its own routers would leave a pair (an input meter among them)
    /// behind on every run.
    /// </remarks>
    public VmRouters Routers
    {
        get => _routers ?? LazyInitializer.EnsureInitialized(ref _routers, () => new VmRouters(LoggerFactory));
        init => _routers = value;
    }
}
