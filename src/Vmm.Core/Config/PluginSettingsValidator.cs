namespace Vmm.Core.Config;

/// <summary>Checks the <c>plugins</c> section; the plugin folders are needed before devices can be checked.</summary>
internal static class PluginSettingsValidator
{
    /// <summary>Validates <paramref name="plugins"/>; without paths the default folder is searched.</summary>
    public static PluginSettings Validate(RawObject? plugins, string baseDirectory, string defaultDirectory, ICollection<ConfigError> errors)
    {
        List<string> paths = [];
        List<string> optional = [];
        if (plugins?["paths"] is RawValue pathsValue)
        {
            foreach (RawValue item in ConfigValues.StringItems(pathsValue, "a folder path", errors))
            {
                string full = Path.GetFullPath(item.Element.GetString()!, baseDirectory);
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
        else
        {
            paths.Add(defaultDirectory);
        }

        if (plugins?["optional"] is RawValue optionalValue)
        {
            optional.AddRange(ConfigValues.StringItems(optionalValue, "a plugin name", errors).Select(v => v.Element.GetString()!));
        }

        return new PluginSettings(paths, optional);
    }
}
