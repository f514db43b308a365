using Vmm.Contracts;

namespace Vmm.Core.Plugins;

/// <summary>A plugin could not be found, read or loaded. The message names the plugin and says what to do.</summary>
public sealed class PluginLoadException : VmmException
{
    /// <summary>Creates the exception.</summary>
    public PluginLoadException(string pluginName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        PluginName = pluginName;
    }

    /// <summary>The plugin's name (its folder's name when the manifest could not be read).</summary>
    public string PluginName { get; }
}
