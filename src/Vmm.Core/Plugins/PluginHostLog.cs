using Microsoft.Extensions.Logging;

namespace Vmm.Core.Plugins;

internal static partial class PluginHostLog
{
    [LoggerMessage(1, LogLevel.Information, "Found plugin '{PluginName}' {Version} (contract {ContractVersion}) in {Directory}", EventName = "PluginDiscovered")]
    public static partial void PluginDiscovered(ILogger logger, string pluginName, string version, string contractVersion, string directory);

    [LoggerMessage(2, LogLevel.Debug, "Skipped folder {Directory}: it holds no vmm-plugin.json", EventName = "FolderSkipped")]
    public static partial void FolderSkipped(ILogger logger, string directory);

    [LoggerMessage(3, LogLevel.Information, "Loaded plugin '{PluginName}' with device types {DeviceTypes}", EventName = "PluginLoaded")]
    public static partial void PluginLoaded(ILogger logger, string pluginName, string deviceTypes);

    [LoggerMessage(4, LogLevel.Warning, "Optional plugin '{PluginName}' did not load; going on without it", EventName = "OptionalPluginFailed")]
    public static partial void OptionalPluginFailed(ILogger logger, Exception exception, string pluginName);

    [LoggerMessage(5, LogLevel.Error, "Plugin '{PluginName}' did not load", EventName = "PluginFailed")]
    public static partial void PluginFailed(ILogger logger, Exception exception, string pluginName);

    [LoggerMessage(6, LogLevel.Information, "Unloaded plugin '{PluginName}'", EventName = "PluginUnloaded")]
    public static partial void PluginUnloaded(ILogger logger, string pluginName);

    [LoggerMessage(7, LogLevel.Warning, "Plugin '{PluginName}' threw while its services were disposed", EventName = "PluginDisposeFailed")]
    public static partial void PluginDisposeFailed(ILogger logger, Exception exception, string pluginName);

    [LoggerMessage(8, LogLevel.Debug, "Built-in plugin '{PluginName}' in {Directory} gives way to the one in {ChosenDirectory}", EventName = "BuiltInPluginShadowed")]
    public static partial void BuiltInPluginShadowed(ILogger logger, string pluginName, string directory, string chosenDirectory);

    [LoggerMessage(9, LogLevel.Information, "Reloaded plugin '{PluginName}' {Version} from its folder", EventName = "PluginReloaded")]
    public static partial void PluginReloaded(ILogger logger, string pluginName, string version);
}
