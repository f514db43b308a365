using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Core.Plugins;

namespace Vmm.Cli;

/// <summary>
/// Loads plugins for the CLI with the real <see cref="PluginHost"/>: every plugin found (or, for a VM, every one
/// its config names) is tried, and one that fails is listed as failed (the config validator decides whether that
/// matters) instead of stopping the rest.
/// </summary>
internal static partial class PluginLoading
{
    /// <summary>
    /// Loads what the folders hold, then the built-in folders' plugins not already found by name (of them, only those
    /// in <paramref name="only"/> when it is not null: the rest stay discovered, and an empty list discovers nothing);
    /// folders without plugins are skipped with a log line. Plugins load into collectible contexts only when
    /// <paramref name="reloadable"/>: otherwise for good, and with their ReadyToRun code used.
    /// </summary>
    public static IPluginCatalog Load(IReadOnlyList<string> folders, IReadOnlyList<string> builtInFolders, IReadOnlyCollection<string>? only, bool reloadable, ILoggerFactory loggerFactory, IEnumerable<ServiceDescriptor> sharedServices)
    {
        ILogger logger = loggerFactory.CreateLogger("Vmm.Cli");
        PluginHostOptions options = new() { LoggerFactory = loggerFactory, Unloadable = reloadable };
        foreach (ServiceDescriptor service in sharedServices)
        {
            options.SharedServices.Add(service);
        }

        if (only is { Count: 0 })
        {
            // A VM without devices needs no plugin, and not even their manifests read.
            return new PluginHost(options);
        }

        AddFolders(folders, options.SearchPaths, logger);
        AddFolders(builtInFolders, options.BuiltInSearchPaths, logger);
        PluginHost host = new(options);
        try
        {
            host.Discover();
            foreach (PluginInfo plugin in host.Plugins.Where(p => p.Status == PluginLoadStatus.Discovered && (only is null || only.Contains(p.Name))))
            {
                try
                {
                    host.Load(plugin.Name);
                }
                catch (PluginLoadException)
                {
                    // The catalog lists the plugin as failed, with the reason.
                }
            }
        }
        catch (PluginLoadException ex)
        {
            DiscoveryFailed(logger, ex.Message);
        }

        return host;
    }

    private static void AddFolders(IReadOnlyList<string> folders, IList<string> searchPaths, ILogger logger)
    {
        foreach (string folder in folders)
        {
            if (HoldsPlugins(folder))
            {
                searchPaths.Add(folder);
            }
            else
            {
                FolderSkipped(logger, folder);
            }
        }
    }

    private static bool HoldsPlugins(string folder) =>
        Directory.Exists(folder)
        && (File.Exists(Path.Combine(folder, "vmm-plugin.json"))
            || Directory.EnumerateDirectories(folder).Any(d => File.Exists(Path.Combine(d, "vmm-plugin.json"))));

    [LoggerMessage(1, LogLevel.Debug, "No plugins in '{Folder}'; skipped")]
    private static partial void FolderSkipped(ILogger logger, string folder);

    [LoggerMessage(2, LogLevel.Warning, "Plugin discovery failed: {Message}")]
    private static partial void DiscoveryFailed(ILogger logger, string message);
}
