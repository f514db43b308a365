using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Contracts.Input;
using Vmm.Core.Display;
using Vmm.Core.Input;

namespace Vmm.Core.Hosting;

/// <summary>
/// The host services one VM's plugins share: the input router (sources to guest input devices, LED status back)
/// and the display router (active source to sinks). Created before the plugins load, because each plugin's
/// container is seeded with <see cref="SharedServices"/>.
/// </summary>
public sealed class VmRouters : IDisposable
{
    /// <summary>Creates both routers.</summary>
    public VmRouters(ILoggerFactory? loggerFactory = null)
    {
        Input = new InputRouter(loggerFactory);
        Display = new DisplayRouter(loggerFactory);
    }

    /// <summary>Routes input to the guest's input devices.</summary>
    public InputRouter Input { get; }

    /// <summary>Joins the active display source to its sinks.</summary>
    public DisplayRouter Display { get; }

    /// <summary>What to seed each plugin's container with (<see cref="Plugins.PluginHostOptions.SharedServices"/>).</summary>
    public IEnumerable<ServiceDescriptor> SharedServices =>
    [
        ServiceDescriptor.Singleton<IInputRouter>(Input),
        ServiceDescriptor.Singleton<IDisplayRouter>(Display),
        ServiceDescriptor.Singleton(TimeProvider.System),
    ];

    /// <inheritdoc />
    public void Dispose() => Input.Dispose();
}
