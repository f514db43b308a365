using System.Text.Json;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Display.Control;
using Vmm.Core.Plugins;

namespace Vmm.Core.Display;

/// <summary>
/// Display sinks made while the VM runs (<c>display-add-sink</c>, a screenshot's temporary sink): each is built by
/// its plugin's device factory from options JSON, checked the way the config checks a device's options, registered
/// with the router, and disposed when removed or when the VM's devices are.
/// </summary>
public sealed class RuntimeDisplaySinks : IDisposable
{
    /// <summary>The error code when the device type is not provided by a loaded plugin.</summary>
    public const string UnknownDeviceTypeCode = "unknown-device-type";

    /// <summary>The error code when the device the factory made is not a display sink.</summary>
    public const string NotADisplaySinkCode = "not-a-display-sink";

    /// <summary>The error code when the id is already a device's.</summary>
    public const string IdTakenCode = "id-taken";

    /// <summary>The error code when removing a sink the config declared (it lives as long as the VM).</summary>
    public const string SinkFromConfigCode = "sink-from-config";

    // Temporary sinks (a screenshot's) carry this prefix, which a config id cannot have, and are not listed.
    private const string HiddenPrefix = "vmm:";

    private readonly Dictionary<string, RuntimeSink> _sinks = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly DisplayRouter _router;
    private readonly IPluginCatalog _catalog;
    private readonly Func<string, IServiceProvider> _servicesFor;
    private readonly IReadOnlyList<(DeviceSpec Spec, IDevice Device)> _configDevices;
    private readonly ILoggerFactory _loggerFactory;
    private readonly string _baseDirectory;
    private bool _disposed;

    /// <summary>Creates the set for one VM.</summary>
    /// <param name="router">The VM's display router.</param>
    /// <param name="catalog">Where device factories come from.</param>
    /// <param name="servicesFor">A plugin's services, by plugin name (what <see cref="DeviceCreateContext.Services"/> gets).</param>
    /// <param name="configDevices">The devices the config declared (their ids are taken, their types are listed).</param>
    /// <param name="loggerFactory">Given to the devices.</param>
    /// <param name="baseDirectory">Relative paths in options resolve against it (the config's folder).</param>
    public RuntimeDisplaySinks(
        DisplayRouter router,
        IPluginCatalog catalog,
        Func<string, IServiceProvider> servicesFor,
        IReadOnlyList<(DeviceSpec Spec, IDevice Device)> configDevices,
        ILoggerFactory loggerFactory,
        string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(servicesFor);
        ArgumentNullException.ThrowIfNull(configDevices);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        _router = router;
        _catalog = catalog;
        _servicesFor = servicesFor;
        _configDevices = configDevices;
        _loggerFactory = loggerFactory;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Whether <paramref name="id"/> is a temporary sink's, which listings leave out.</summary>
    public static bool IsHidden(string id) => id.StartsWith(HiddenPrefix, StringComparison.Ordinal);

    /// <summary>The device type of a config device or runtime sink, or null.</summary>
    public string? TypeOf(string id)
    {
        lock (_lock)
        {
            if (_sinks.TryGetValue(id, out RuntimeSink? entry))
            {
                return entry.Type;
            }
        }

        return _configDevices.FirstOrDefault(d => d.Spec.Id == id).Spec?.Type;
    }

    /// <summary>Whether <paramref name="id"/> is a sink made here.</summary>
    public bool IsRuntimeSink(string id)
    {
        lock (_lock)
        {
            return _sinks.ContainsKey(id);
        }
    }

    /// <summary>
    /// Makes a sink of <paramref name="deviceType"/> from <paramref name="options"/> (an object, or undefined for
    /// none) and registers it with the router, attached when <paramref name="attach"/> is true.
    /// </summary>
    /// <exception cref="ControlCommandException">The type, id or options are wrong, or the device is not a sink.</exception>
    public IDisplaySink Add(string deviceType, string id, JsonElement options, bool attach, string? pluginName = null)
    {
        ArgumentNullException.ThrowIfNull(deviceType);
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ControlCommandException(ControlErrorCodes.InvalidArguments, $"args.id: expected an id of letters, digits, '-' and '_', got '{id}'");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_sinks.ContainsKey(id) || _configDevices.Any(d => d.Spec.Id == id) || _router.Sources.Any(s => s.Id == id) || _router.Sinks.Any(s => s.Id == id))
            {
                throw new ControlCommandException(IdTakenCode, $"the VM already has a device with id '{id}'");
            }

            (IDisplaySink sink, string plugin) = Create(deviceType, id, options, pluginName);
            try
            {
                _router.AddSink(sink, attach);
            }
            catch
            {
                sink.Dispose();
                throw;
            }

            _sinks.Add(id, new RuntimeSink(deviceType, plugin, options.ValueKind == JsonValueKind.Undefined ? default : options.Clone(), sink));
            return sink;
        }
    }

    /// <summary>
    /// Makes a temporary sink that is not registered anywhere, with an id listings leave out; the caller registers,
    /// removes and disposes it.
    /// </summary>
    /// <exception cref="ControlCommandException">No loaded plugin provides the type, or it is not a sink.</exception>
    public IDisplaySink CreateTemporary(string deviceType, string purpose)
    {
        ArgumentNullException.ThrowIfNull(deviceType);
        ArgumentNullException.ThrowIfNull(purpose);
        return Create(deviceType, HiddenPrefix + purpose + "-" + Guid.NewGuid().ToString("N")[..8], default, pluginName: null).Sink;
    }

    private (IDisplaySink Sink, string Plugin) Create(string deviceType, string id, JsonElement options, string? pluginName)
    {
        (IDeviceFactory factory, string plugin) = FindFactory(deviceType, pluginName);
        object deviceOptions = ReadOptions(factory, options, plugin);
        IDevice device;
        try
        {
            device = factory.Create(new DeviceCreateContext(id, _loggerFactory, null, _servicesFor(plugin), _baseDirectory), deviceOptions);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ControlCommandException(
                ControlErrorCodes.InternalError,
                $"plugin '{plugin}' failed to create a '{deviceType}' device: {ex.GetType().Name}: {ex.Message}");
        }

        if (device is not IDisplaySink sink)
        {
            device.Dispose();
            throw new ControlCommandException(NotADisplaySinkCode, $"device type '{deviceType}' of plugin '{plugin}' is not a display sink");
        }

        return (sink, plugin);
    }

    /// <summary>Detaches, unregisters and disposes a sink made here.</summary>
    /// <exception cref="ControlCommandException">No such sink, or the config declared it.</exception>
    public void Remove(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        IDisplaySink sink;
        lock (_lock)
        {
            if (!_sinks.Remove(id, out RuntimeSink? entry))
            {
                if (_router.Sinks.Any(s => s.Id == id))
                {
                    throw new ControlCommandException(SinkFromConfigCode, $"display sink '{id}' comes from the config and lives as long as the VM; detach it instead");
                }

                string known = DisplayArgs.List([.. _sinks.Keys]);
                throw new ControlCommandException(ScreenshotCommand.NoSuchSinkCode, $"the VM has no display sink with id '{id}' made by display-add-sink (those: {known})");
            }

            sink = entry.Sink;
        }

        _router.RemoveSink(id);
        sink.Dispose();
    }

    /// <summary>
    /// Detaches, unregisters and disposes every sink made here by <paramref name="pluginName"/>, and returns what
    /// <see cref="Restore"/> needs to make each again (its type, id, options and whether it was attached): the first
    /// half of reloading that plugin.
    /// </summary>
    internal IReadOnlyList<RuntimeSinkRecipe> TakeFrom(string pluginName)
    {
        List<(RuntimeSink Entry, bool Attached)> taken = [];
        lock (_lock)
        {
            IReadOnlyList<string> attached = _router.SinkIds;
            foreach ((string id, RuntimeSink entry) in _sinks.Where(e => e.Value.Plugin == pluginName).ToArray())
            {
                _sinks.Remove(id);
                taken.Add((entry, attached.Contains(id, StringComparer.Ordinal)));
            }
        }

        foreach ((RuntimeSink entry, _) in taken)
        {
            _router.RemoveSink(entry.Sink.Id);
            entry.Sink.Dispose();
        }

        return [.. taken.Select(t => new RuntimeSinkRecipe(t.Entry.Type, t.Entry.Sink.Id, t.Entry.Plugin, t.Entry.Options, t.Attached))];
    }

    /// <summary>Makes a sink taken by <see cref="TakeFrom"/> again, from the plugin's new build.</summary>
    /// <exception cref="ControlCommandException">The new build no longer accepts it (type gone, options refused).</exception>
    internal void Restore(RuntimeSinkRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        Add(recipe.Type, recipe.Id, recipe.Options, recipe.Attached, recipe.Plugin);
    }

    /// <summary>Removes and disposes every sink made here.</summary>
    public void Dispose()
    {
        List<IDisplaySink> sinks;
        lock (_lock)
        {
            _disposed = true;
            sinks = [.. _sinks.Values.Select(e => e.Sink)];
            _sinks.Clear();
        }

        foreach (IDisplaySink sink in sinks)
        {
            _router.RemoveSink(sink.Id);
            sink.Dispose();
        }
    }

    private (IDeviceFactory Factory, string Plugin) FindFactory(string deviceType, string? pluginName)
    {
        foreach (PluginInfo plugin in _catalog.Plugins.Where(p => pluginName is null || p.Name == pluginName))
        {
            if (plugin.Status == PluginLoadStatus.Loaded && _catalog.TryGetFactory(plugin.Name, deviceType, out IDeviceFactory? factory))
            {
                return (factory, plugin.Name);
            }
        }

        string[] known = [.. _catalog.Plugins.Where(p => p.Status == PluginLoadStatus.Loaded).SelectMany(p => p.DeviceTypes).Distinct().Order(StringComparer.Ordinal)];
        string where = pluginName is null ? "no loaded plugin provides" : $"plugin '{pluginName}' is not loaded or does not provide";
        throw new ControlCommandException(UnknownDeviceTypeCode, $"{where} device type '{deviceType}' (loaded types: {DisplayArgs.List(known)})");
    }

    private object ReadOptions(IDeviceFactory factory, JsonElement options, string plugin)
    {
        const string OptionsPath = "args.options";
        RawValue? raw = options.ValueKind == JsonValueKind.Undefined ? null : new RawValue(OptionsPath, options);
        List<ConfigError> errors = [];
        object? read = DeviceOptionsReader.Read(raw, OptionsPath, factory.OptionsType, errors);
        if (read is null || errors.Count > 0)
        {
            throw new ControlCommandException(ControlErrorCodes.InvalidArguments, string.Join("; ", errors.Select(e => e.ToString())));
        }

        var validation = new DeviceOptionsValidationContext(OptionsPath, _baseDirectory);
        try
        {
            factory.Validate(read, validation);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ControlCommandException(
                ControlErrorCodes.InternalError,
                $"plugin '{plugin}' threw while checking the options: {ex.GetType().Name}: {ex.Message}");
        }

        if (validation.Errors.Count > 0)
        {
            throw new ControlCommandException(ControlErrorCodes.InvalidArguments, string.Join("; ", validation.Errors.Select(e => $"{e.Path}: {e.Message}")));
        }

        return read;
    }

    /// <summary>A sink made here: its type and plugin, the options it was made from, and the sink.</summary>
    private sealed record RuntimeSink(string Type, string Plugin, JsonElement Options, IDisplaySink Sink);
}

/// <summary>How to make a runtime sink again after its plugin is reloaded.</summary>
internal sealed record RuntimeSinkRecipe(string Type, string Id, string Plugin, JsonElement Options, bool Attached);
