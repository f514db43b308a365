using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>Checks the <c>plugins</c> section; the plugin folders are needed before devices can be checked.</summary>
internal static class PluginSettingsValidator
{
    /// <summary>
    /// Validates <paramref name="plugins"/>. The config's <c>paths</c> add to <paramref name="builtInDirectories"/>
    /// (the plugins shipped with vmm), which <c>"builtIn": false</c> leaves out.
    /// </summary>
    public static PluginSettings Validate(RawObject? plugins, string baseDirectory, IReadOnlyList<string> builtInDirectories, ICollection<ConfigError> errors)
    {
        List<string> paths = [];
        List<string> optional = [];
        if (plugins?["paths"] is RawValue pathsValue)
        {
            foreach (RawValue item in ConfigValues.StringItems(pathsValue, "a folder path", errors))
            {
                if (ConfigValues.HostPath(item, item.Element.GetString()!, baseDirectory, errors) is not string full)
                {
                    continue;
                }

                if (Directory.Exists(full))
                {
                    paths.Add(full);
                }
                else
                {
                    errors.Add(new ConfigError(item.Path, $"folder '{full}' does not exist"));
                }
            }
        }

        bool builtIn = true;
        if (plugins?["builtIn"] is RawValue builtInValue)
        {
            if (builtInValue.Element.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                builtIn = builtInValue.Element.GetBoolean();
            }
            else
            {
                ConfigValues.Wrong(builtInValue, "true or false", errors);
            }
        }

        if (plugins?["optional"] is RawValue optionalValue)
        {
            optional.AddRange(ConfigValues.StringItems(optionalValue, "a plugin name", errors).Select(v => v.Element.GetString()!));
        }

        return new PluginSettings(paths, optional, builtIn ? builtInDirectories : []);
    }
}
