using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vmm.Core.Plugins;

/// <summary>Where a <see cref="PluginHost"/> looks for plugins and what it gives them.</summary>
public sealed class PluginHostOptions
{
    /// <summary>
    /// Folders to search. A folder that holds <c>vmm-plugin.json</c> is one plugin; otherwise each immediate
    /// subfolder that holds one is a plugin. A folder that does not exist is an error.
    /// </summary>
    public IList<string> SearchPaths { get; } = new List<string>();

    /// <summary>
    /// Folders searched after <see cref="SearchPaths"/> (the plugins shipped with vmm). A plugin found here whose
    /// name a plugin in <see cref="SearchPaths"/> already has gives way to it, so a config can bring its own build of
    /// a built-in plugin; a folder that does not exist is skipped.
    /// </summary>
    public IList<string> BuiltInSearchPaths { get; } = new List<string>();

    /// <summary>Names of plugins whose failure to load is logged as a warning instead of failing <see cref="PluginHost.LoadAll"/>.</summary>
    public ISet<string> OptionalPlugins { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Whether plugins load into collectible contexts (default true): <see cref="PluginHost.Unload"/> then frees a
    /// plugin's assemblies and <see cref="PluginHost.Reload"/> loads a new build. Set it false where no plugin will be
    /// reloaded (vmm does, unless the VM has a control socket, the only way to ask for a reload): the runtime ignores
    /// ReadyToRun code in a collectible context (dotnet/runtime#40704), so only then is a plugin's precompiled code
    /// used. Without it, <see cref="PluginHost.Unload"/> disposes the plugin's container but its assemblies stay
    /// loaded until the process ends (a later <see cref="PluginHost.Load"/> uses them again), and
    /// <see cref="PluginHost.Reload"/> is refused.
    /// </summary>
    public bool Unloadable { get; set; } = true;

    /// <summary>Where the host's own logger comes from; also given to plugins unless <see cref="SharedServices"/> registers one.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Host services copied into every plugin's container before the plugin registers its own (for example
    /// <c>IMeterFactory</c>, <c>IDisplayRouter</c> and <c>IInputRouter</c> instances). Register instances: a
    /// plugin's container is disposed when the plugin unloads.
    /// </summary>
    public IList<ServiceDescriptor> SharedServices { get; } = new List<ServiceDescriptor>();
}
