using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;
using Vmm.Core.Virtio.Execution;

namespace Vmm.Core.Config;

/// <summary>Checks the <c>devices</c> array: ids, plugins, device types and each device's options.</summary>
internal sealed class DeviceValidator
{
    private readonly IPluginCatalog _catalog;
    private readonly PluginSettings _plugins;
    private readonly string _baseDirectory;
    private readonly ICollection<ConfigError> _errors;
    private readonly ICollection<string> _warnings;
    private readonly Dictionary<string, string> _idPaths = new(StringComparer.Ordinal);

    public DeviceValidator(IPluginCatalog catalog, PluginSettings plugins, string baseDirectory, ICollection<ConfigError> errors, ICollection<string> warnings)
    {
        _catalog = catalog;
        _plugins = plugins;
        _baseDirectory = baseDirectory;
        _errors = errors;
        _warnings = warnings;
    }

    /// <summary>The ids of every device in the config, including skipped ones.</summary>
    public IReadOnlyCollection<string> AllIds => _idPaths.Keys;

    /// <summary>Validates every device; returns those to create (skipped optional ones left out).</summary>
    public List<DeviceSpec> Validate(IReadOnlyList<RawObject> devices)
    {
        List<DeviceSpec> specs = [];
        foreach (RawObject device in devices)
        {
            if (ValidateOne(device) is DeviceSpec spec)
            {
                specs.Add(spec);
            }
        }

        return specs;
    }

    private DeviceSpec? ValidateOne(RawObject device)
    {
        string? id = Id(device);
        string? pluginName = ConfigValues.RequiredString(device, "plugin", "a plugin name such as \"virtio-rng\"", _errors);
        string? type = ConfigValues.RequiredString(device, "type", "a device type such as \"virtio-rng\"", _errors);
        if (pluginName is null || type is null || Plugin(device, pluginName, id) is not PluginInfo plugin)
        {
            return null;
        }

        if (!_catalog.TryGetFactory(plugin.Name, type, out IDeviceFactory? factory))
        {
            string has = plugin.DeviceTypes.Count == 0 ? "none" : string.Join(", ", plugin.DeviceTypes);
            _errors.Add(new ConfigError(device.PathOf("type"), $"plugin '{plugin.Name}' has no device type '{type}' (it has: {has})"));
            return null;
        }

        string optionsPath = device.PathOf("options");
        object? options = DeviceOptionsReader.Read(device["options"], optionsPath, factory.OptionsType, _errors);
        DeviceLimits? limits = device["limits"] is RawValue limitsValue ? DeviceLimitsReader.Read(limitsValue, _errors) : DeviceLimits.Default;
        if (options is null || !ValidateOptions(factory, options, optionsPath, plugin.Name) || id is null || limits is null)
        {
            return null;
        }

        return new DeviceSpec(id, plugin.Name, type, options, factory, device.Path) { Limits = limits };
    }

    private string? Id(RawObject device)
    {
        string? id = ConfigValues.RequiredString(device, "id", "a device id such as \"rng0\"", _errors);
        if (id is null)
        {
            return null;
        }

        string path = device.PathOf("id");
        if (!id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            _errors.Add(new ConfigError(path, $"expected an id of letters, digits, '-' and '_', got {JsonValueText.Quote(id)}"));
            return null;
        }

        if (!_idPaths.TryAdd(id, path))
        {
            _errors.Add(new ConfigError(path, $"duplicate id '{id}' (first used at {_idPaths[id]})"));
            return null;
        }

        return id;
    }

    private PluginInfo? Plugin(RawObject device, string name, string? id)
    {
        string path = device.PathOf("plugin");
        bool optional = _plugins.Optional.Contains(name, StringComparer.Ordinal);
        PluginInfo? plugin = _catalog.Plugins.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));
        if (plugin is null)
        {
            if (optional)
            {
                _warnings.Add($"{path}: optional plugin '{name}' was not found; device '{id}' is skipped");
            }
            else
            {
                string known = _catalog.Plugins.Count == 0 ? "none" : string.Join(", ", _catalog.Plugins.Select(p => p.Name));
                _errors.Add(new ConfigError(path, $"unknown plugin '{name}' (known: {known})"));
            }

            return null;
        }

        if (plugin.Status != PluginLoadStatus.Loaded)
        {
            string why = plugin.Error ?? plugin.Status.ToString().ToLowerInvariant();
            if (optional)
            {
                _warnings.Add($"{path}: optional plugin '{name}' did not load ({why}); device '{id}' is skipped");
            }
            else
            {
                _errors.Add(new ConfigError(path, $"plugin '{name}' failed to load: {why}", ConfigErrorKind.PluginFailed));
            }

            return null;
        }

        return plugin;
    }

    private bool ValidateOptions(IDeviceFactory factory, object options, string optionsPath, string pluginName)
    {
        DeviceOptionsValidationContext context = new(optionsPath, _baseDirectory);
        try
        {
            factory.Validate(options, context);
        }
#pragma warning disable CA1031 // a plugin's bug must become a config error naming the plugin, not crash the host
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _errors.Add(new ConfigError(optionsPath, $"plugin '{pluginName}' threw while checking the options: {ex.GetType().Name}: {ex.Message}", ConfigErrorKind.PluginFailed));
            return false;
        }

        foreach ((string path, string message) in context.Errors)
        {
            _errors.Add(new ConfigError(path, message));
        }

        return context.Errors.Count == 0;
    }
}
