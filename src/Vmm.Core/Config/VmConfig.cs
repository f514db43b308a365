namespace Vmm.Core.Config;

/// <summary>
/// Loads a VM config file: reads the JSON, loads the plugins it names through <c>loadPlugins</c>, and validates
/// everything into a <see cref="VmSpec"/>, collecting all errors rather than stopping at the first.
/// </summary>
public static class VmConfig
{
    /// <summary>The built-in plugin folder: <c>plugins/</c> next to the vmm executable.</summary>
    public static string DefaultPluginDirectory => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>Loads and validates the config file at <paramref name="path"/>.</summary>
    /// <param name="path">The config file; relative paths inside it are resolved against its folder.</param>
    /// <param name="loadPlugins">Loads the plugins from the folders the config names and the built-in ones (the plugin host).</param>
    /// <param name="builtInPluginDirectories">The built-in plugin folders, which the config's own add to; <see cref="DefaultPluginDirectory"/> when null.</param>
    public static VmConfigResult Load(string path, Func<PluginSettings, Plugins.IPluginCatalog> loadPlugins, IReadOnlyList<string>? builtInPluginDirectories = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        if (ConfigFileText.Read(full, out ConfigError? unreadable) is not string json)
        {
            return new VmConfigResult(null, [unreadable!], [], null);
        }

        Diagnostics.StartupTrace.Mark("config read");

        return Parse(json, Path.GetDirectoryName(full)!, loadPlugins, builtInPluginDirectories);
    }

    /// <summary>Validates config JSON whose relative paths are resolved against <paramref name="baseDirectory"/>.</summary>
    public static VmConfigResult Parse(string json, string baseDirectory, Func<PluginSettings, Plugins.IPluginCatalog> loadPlugins, IReadOnlyList<string>? builtInPluginDirectories = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        ArgumentNullException.ThrowIfNull(loadPlugins);
        List<ConfigError> errors = [];
        List<string> warnings = [];
        RawVmConfig? raw = VmConfigReader.Read(json, Path.GetFullPath(baseDirectory), errors);
        if (raw is null)
        {
            return new VmConfigResult(null, errors, warnings, null);
        }

        PluginSettings plugins = PluginSettingsValidator.Validate(raw.Plugins, raw.BaseDirectory, builtInPluginDirectories ?? [DefaultPluginDirectory], errors)
            with { Named = NamedPlugins(raw.Devices), Reloadable = raw.Control is not null };
        Plugins.IPluginCatalog catalog = loadPlugins(plugins);
        Diagnostics.StartupTrace.Mark("plugins loaded");
        VmSpec? spec = VmConfigValidator.Validate(raw, plugins, catalog, errors, warnings);
        return new VmConfigResult(errors.Count == 0 ? spec : null, errors, warnings, catalog);
    }

    // The "plugin" of each device, as written (the device validator reports a missing or mistyped one).
    private static string[] NamedPlugins(IReadOnlyList<RawObject> devices) =>
        [.. devices
            .Select(d => d["plugin"] is { Kind: System.Text.Json.JsonValueKind.String } name ? name.Element.GetString() : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)];
}
