using System.Text.Json;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Display;
using Vmm.Core.Plugins;

namespace Vmm.Core.Hosting;

/// <content>Reloading a host-side plugin (display sources and sinks) while the VM runs.</content>
public sealed partial class VmDeviceSet
{
    /// <summary>The error code when the plugin has a device on the guest's bus.</summary>
    public const string OnTheBusCode = "plugin-on-the-bus";

    /// <summary>The error code when the plugin's new build failed to load; its devices wait for the next reload.</summary>
    public const string ReloadFailedCode = "plugin-reload-failed";

    /// <summary>The error code when the VM's plugins do not come from a plugin host that can reload them (or it loaded them for good).</summary>
    public const string NotReloadableCode = "plugins-not-reloadable";

    /// <summary>
    /// Unloads <paramref name="pluginName"/> and loads it again from its folder as it is now (a new build copied
    /// there), with its display sources and sinks made again from the same options, registered with the router as
    /// they were (attached or not, the active source still active). Only host-side devices can be reloaded: a
    /// plugin with a virtio or PCI device on the guest's bus is refused, because the guest's driver holds that
    /// device's queues, BARs, interrupts and negotiated features, which a new instance could not take over
    /// without the guest resetting it.
    /// </summary>
    /// <remarks>Called on the control thread, one request at a time.</remarks>
    /// <returns>The plugin's state after the reload and the ids of the devices made again.</returns>
    /// <exception cref="ControlCommandException">The plugin has a device on the bus, or is unknown, or its new build failed to load or to make a device.</exception>
    public (PluginInfo Plugin, IReadOnlyList<string> Devices) ReloadPlugin(string pluginName)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        if (_context.Plugins is not PluginHost host)
        {
            throw new ControlCommandException(NotReloadableCode, "this VM's plugins were not loaded by a plugin host, so none can be reloaded");
        }

        if (!host.CanReload)
        {
            throw new ControlCommandException(
                NotReloadableCode,
                "this VM's plugins were loaded for good, into load contexts that cannot be unloaded (vmm does so when the config has no control socket), so none can be reloaded");
        }

        (DeviceSpec Spec, IDevice Device)[] owned = [.. _devices.Where(d => d.Spec.Plugin == pluginName)];
        if (owned.FirstOrDefault(d => d.Device is IVirtioDevice or IPciDevice) is { Spec: not null } onBus)
        {
            throw new ControlCommandException(
                OnTheBusCode,
                $"plugin '{pluginName}' provides '{onBus.Spec.Id}' ({onBus.Spec.Type}), a device on the guest's bus: the guest's driver holds its queues, "
                    + "BARs and interrupts, so it cannot be reloaded while the VM runs (only plugins whose devices are display sources and sinks can)");
        }

        DisplayRouter router = _context.Routers.Display;
        string? activeSource = router.ActiveSourceId;
        IReadOnlyList<string> attachedSinks = router.SinkIds;
        // Sinks a failed reload could not make again wait here for the next one.
        List<RuntimeSinkRecipe> runtimeSinks = _sinksAwaitingReload.Remove(pluginName, out List<RuntimeSinkRecipe>? waiting) ? waiting : [];
        runtimeSinks.AddRange(RuntimeSinks?.TakeFrom(pluginName) ?? []);
        List<(int Index, DeviceSpec Spec, JsonElement Options, bool Attached)> configDevices = [];
        foreach ((DeviceSpec spec, IDevice device) in owned)
        {
            int index = _devices.FindIndex(d => ReferenceEquals(d.Device, device));
            JsonElement options = device is UnloadedDevice unloaded
                ? unloaded.Options
                : JsonSerializer.SerializeToElement(spec.Options, spec.Options.GetType(), DeviceOptionsSerializer.For(spec.Options.GetType()));
            bool attached = device is UnloadedDevice previous ? previous.Attached : attachedSinks.Contains(spec.Id, StringComparer.Ordinal);
            configDevices.Add((index, spec with { Options = options, Factory = UnloadedDevice.Factory }, options, attached));
            if (device is IDisplaySink)
            {
                router.RemoveSink(spec.Id);
            }

            if (device is IDisplaySource)
            {
                router.RemoveSource(spec.Id);
            }

            device.Dispose();
        }

        // Nothing of the old build may stay referenced here, or its load context could never be collected.
        owned = [];
        foreach ((int index, DeviceSpec spec, JsonElement options, bool attached) in configDevices)
        {
            _devices[index] = (spec, new UnloadedDevice(spec.Id, options, attached));
        }

        PluginInfo info;
        try
        {
            info = host.Reload(pluginName);
        }
        catch (PluginLoadException e)
        {
            _sinksAwaitingReload[pluginName] = runtimeSinks;
            throw new ControlCommandException(
                ReloadFailedCode,
                $"plugin '{pluginName}' did not load again, and its devices ({DisplayList(configDevices.Select(d => d.Spec.Id).Concat(runtimeSinks.Select(r => r.Id)))}) "
                    + $"wait for a build that does: {e.Message}");
        }

        List<string> made = [];
        foreach ((int index, DeviceSpec spec, JsonElement json, bool attached) in configDevices)
        {
            IDevice device = Recreate(host, pluginName, spec, json, out DeviceSpec newSpec);
            _devices[index] = (newSpec, device);
            if (device is IDisplaySource source)
            {
                router.AddSource(source);
            }

            if (device is IDisplaySink sink)
            {
                router.AddSink(sink, attached);
            }

            made.Add(spec.Id);
        }

        if (activeSource is not null && router.ActiveSourceId != activeSource && router.Sources.Any(s => s.Id == activeSource))
        {
            router.SwitchSource(activeSource);
        }

        foreach (RuntimeSinkRecipe recipe in runtimeSinks)
        {
            RuntimeSinks!.Restore(recipe);
            made.Add(recipe.Id);
        }

        return (info, made);
    }

    private IDevice Recreate(PluginHost host, string pluginName, DeviceSpec spec, JsonElement json, out DeviceSpec newSpec)
    {
        if (!host.TryGetFactory(pluginName, spec.Type, out IDeviceFactory? factory) || !host.TryGetServices(pluginName, out IServiceProvider? services))
        {
            throw new ControlCommandException(ControlErrorCodes.InternalError, $"the new build of plugin '{pluginName}' has no device type '{spec.Type}' for '{spec.Id}'");
        }

        object options;
        try
        {
            options = JsonSerializer.Deserialize(json, factory.OptionsType, DeviceOptionsSerializer.For(factory.OptionsType))
                ?? throw new JsonException("null options");
        }
        catch (JsonException e)
        {
            throw new ControlCommandException(ControlErrorCodes.InternalError, $"the new build of plugin '{pluginName}' does not read the options of '{spec.Id}': {e.Message}");
        }

        newSpec = spec with { Options = options, Factory = factory };
        try
        {
            return factory.Create(new DeviceCreateContext(spec.Id, _context.LoggerFactory, null, services, _baseDirectory), options);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ControlCommandException(ControlErrorCodes.InternalError, $"the new build of plugin '{pluginName}' failed to make '{spec.Id}': {e.GetType().Name}: {e.Message}");
        }
    }

    private static string DisplayList(IEnumerable<string> ids) => string.Join(", ", ids) is { Length: > 0 } list ? list : "none";

    /// <summary>Holds a config device's place, with what it was made from, while its plugin reloads.</summary>
    private sealed class UnloadedDevice(string id, JsonElement options, bool attached) : IDevice
    {
        /// <summary>What the placeholder's spec names as its factory: it makes nothing.</summary>
        public static IDeviceFactory Factory { get; } = new NoFactory();

        public string Id { get; } = id;

        public JsonElement Options { get; } = options;

        public bool Attached { get; } = attached;

        public void Dispose()
        {
        }

        private sealed class NoFactory : IDeviceFactory
        {
            public string DeviceType => "unloaded";

            public string Description => "A device whose plugin is being reloaded.";

            public Type OptionsType => typeof(JsonElement);

            public void Validate(object options, DeviceOptionsValidationContext context)
            {
            }

            public IDevice Create(DeviceCreateContext context, object options)
                => throw new InvalidOperationException("The device's plugin is being reloaded.");
        }
    }
}
