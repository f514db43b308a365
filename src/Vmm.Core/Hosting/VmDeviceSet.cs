using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Display;
using Vmm.Core.Display.Control;
using Vmm.Core.Input;
using Vmm.Core.Plugins;

namespace Vmm.Core.Hosting;

/// <summary>
/// The devices of one VM, created from its spec the same way on every platform: each with its own plugin's
/// services (which carry the VM's routers), display sources and sinks joined as the config's display section says,
/// the <c>input</c>, <c>screenshot</c> and <c>display*</c> control commands registered, and the host evdev devices the config names reading into the
/// input router. Platforms attach <see cref="VirtioDevices"/> and <see cref="PciDevices"/> to the guest;
/// the rest (display sinks) live on the host side only.
/// </summary>
public sealed partial class VmDeviceSet : IDisposable
{
    private readonly List<(DeviceSpec Spec, IDevice Device)> _devices = [];
    private readonly List<HostEvdevSource> _evdevSources = [];
    private readonly Dictionary<string, List<RuntimeSinkRecipe>> _sinksAwaitingReload = new(StringComparer.Ordinal);
    private readonly VmRunContext _context;
    private readonly string _baseDirectory;
    private ServiceProvider? _fallbackServices;
    private string[] _vmPlugins = [];

    private VmDeviceSet(VmRunContext context, string baseDirectory)
    {
        _context = context;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Every device, in config order.</summary>
    public IReadOnlyList<(DeviceSpec Spec, IDevice Device)> Devices => _devices;

    /// <summary>The devices the guest sees through a virtio transport.</summary>
    public IEnumerable<(DeviceSpec Spec, IVirtioDevice Device)> VirtioDevices =>
        _devices.Where(d => d.Device is IVirtioDevice).Select(d => (d.Spec, (IVirtioDevice)d.Device));

    /// <summary>The plain (non-virtio) PCI devices the guest sees, such as IVSHMEM.</summary>
    public IEnumerable<(DeviceSpec Spec, IPciDevice Device)> PciDevices =>
        _devices.Where(d => d.Device is IPciDevice).Select(d => (d.Spec, (IPciDevice)d.Device));

    /// <summary>Creates every device of <paramref name="spec"/>; on failure the ones already made are disposed.</summary>
    /// <exception cref="VmmException">A factory failed on purpose (a file it could not open...): the message starts with the device's JSON path.</exception>
    public static VmDeviceSet Create(VmSpec spec, VmRunContext context)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        VmDeviceSet set = new(context, spec.BaseDirectory) { _vmPlugins = [.. spec.Devices.Select(d => d.Plugin)] };
        try
        {
            foreach (DeviceSpec deviceSpec in spec.Devices)
            {
                IServiceProvider services = set.ServicesFor(deviceSpec.Plugin, context);
                var createContext = new DeviceCreateContext(deviceSpec.Id, context.LoggerFactory, null, services, spec.BaseDirectory);
                set._devices.Add((deviceSpec, CreateDevice(deviceSpec, createContext)));
            }

            set.JoinDisplays(spec.Display, context.Routers);
            DisplayRouter router = context.Routers.Display;
            set.RuntimeSinks = new RuntimeDisplaySinks(router, context.Plugins, plugin => set.ServicesFor(plugin, context), set._devices, context.LoggerFactory, spec.BaseDirectory);
            context.ControlCommands.Add(new ControlInputCommand(context.Routers.Input));
            context.ControlCommands.Add(new ScreenshotCommand(router, set.RuntimeSinks));
            context.ControlCommands.Add(new DisplayListCommand(router, set.RuntimeSinks));
            context.ControlCommands.Add(DisplayTopologyCommand.SwitchSource(router));
            context.ControlCommands.Add(DisplayTopologyCommand.AttachSink(router));
            context.ControlCommands.Add(DisplayTopologyCommand.DetachSink(router));
            context.ControlCommands.Add(new DisplayAddSinkCommand(set.RuntimeSinks));
            context.ControlCommands.Add(new DisplayRemoveSinkCommand(set.RuntimeSinks));
            context.ControlCommands.Add(new PluginReloadCommand(set));
            foreach (HostEvdevSpec evdev in spec.HostEvdevSources)
            {
                var source = new HostEvdevSource(evdev.Path, context.Routers.Input, evdev.Kind, evdev.DeviceId, context.LoggerFactory);
                set._evdevSources.Add(source);
                source.Start();
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>The display sinks made while the VM runs (<c>display-add-sink</c>); disposed with the set.</summary>
    public RuntimeDisplaySinks? RuntimeSinks { get; private set; }

    /// <summary>The host evdev devices feeding the guest, as the config's <c>input.evdev</c> names them.</summary>
    public IReadOnlyList<HostEvdevSource> HostEvdevSources => _evdevSources;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (HostEvdevSource source in _evdevSources)
        {
            source.Dispose();
        }

        _evdevSources.Clear();
        RuntimeSinks?.Dispose();
        LeaveDisplays(_context.Routers.Display);
        foreach ((_, IDevice device) in _devices)
        {
            device.Dispose();
        }

        _devices.Clear();
        _fallbackServices?.Dispose();
    }

    private static IDevice CreateDevice(DeviceSpec spec, DeviceCreateContext context)
    {
        try
        {
            return spec.Factory.Create(context, spec.Options);
        }
        catch (VmmException exception)
        {
            // What validation could not see (a file that cannot be created) still reads like a config error.
            throw new VmmException($"{spec.ConfigPath}.options ({spec.Type} '{spec.Id}'): {exception.Message}", exception);
        }
    }

    private IServiceProvider ServicesFor(string pluginName, VmRunContext context)
    {
        // Joined with the shared contracts (context types) of the other plugins this VM names.
        if (context.Plugins is PluginHost host && CrossPluginServices.Join(host, pluginName, _vmPlugins) is { } services)
        {
            return services;
        }

        // A catalog that is not a plugin host (tests, embedders): the VM's shared services alone.
        if (_fallbackServices is null)
        {
            IServiceCollection collection = new ServiceCollection();
            foreach (ServiceDescriptor descriptor in context.Routers.SharedServices)
            {
                collection.Add(descriptor);
            }

            _fallbackServices = collection.BuildServiceProvider();
        }

        return _fallbackServices;
    }

    /// <summary>
    /// Takes this VM's sources and sinks out of the router, which outlives the VM when a host runs several VMs with
    /// one set of routers (its plugins are loaded with them): a disposed device left registered would be held for
    /// ever and its id refused to the next VM.
    /// </summary>
    private void LeaveDisplays(DisplayRouter router)
    {
        foreach ((_, IDevice device) in _devices)
        {
            if (device is IDisplaySink sink && router.Sinks.Contains(sink))
            {
                router.RemoveSink(sink.Id);
            }

            if (device is IDisplaySource source && router.Sources.Contains(source))
            {
                router.RemoveSource(source.Id);
            }
        }
    }

    private void JoinDisplays(DisplaySpec? display, VmRouters routers)
    {
        IEnumerable<IDevice> devices = _devices.Select(d => d.Device);
        if (display is null)
        {
            routers.Display.AddDevices(devices);
            return;
        }

        foreach (IDevice device in devices)
        {
            if (device is IDisplaySource source)
            {
                routers.Display.AddSource(source);
            }

            if (device is IDisplaySink sink)
            {
                routers.Display.AddSink(sink, attach: display.Sinks.Contains(sink.Id, StringComparer.Ordinal));
            }
        }

        routers.Display.SwitchSource(display.Source);
    }
}
