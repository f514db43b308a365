using System.Reflection;
using System.Runtime.Loader;
using McMaster.NETCore.Plugins;

namespace Vmm.Core.Plugins;

/// <summary>
/// The unloadable load context of one plugin, made by McMaster.NETCore.Plugins' <see cref="PluginLoader"/> with
/// <see cref="SharedAssemblies"/> as its shared-type list. Shared assemblies come from the host; the framework comes
/// from the runtime; everything else, managed or native, comes from the plugin's folder as its <c>.deps.json</c>
/// describes.
/// </summary>
/// <remarks>
/// <para>
/// Before the loader is made, and again before each <see cref="Reload"/>, <see cref="PluginDependencyCheck"/> reads
/// the plugin's references: the loader would otherwise fall back silently to a private copy of a newer shared
/// assembly (whose types would not match the host's) or to the host's copy of an assembly it does not share.
/// </para>
/// <para>
/// Assemblies are read into memory rather than mapped from their files, so a new build can be copied over the
/// plugin's folder while the old one still runs, and then loaded by <see cref="Reload"/>.
/// </para>
/// </remarks>
public sealed class PluginLoadContext : IDisposable
{
    private readonly PluginLoader _loader;

    /// <summary>Checks the plugin's references and creates its loader; no plugin code runs yet.</summary>
    /// <param name="pluginName">The plugin's name, which every error names.</param>
    /// <param name="mainAssemblyPath">The absolute path of the plugin's main assembly.</param>
    /// <exception cref="PluginLoadException">The plugin would bind to an assembly wrongly (see <see cref="PluginDependencyCheck"/>).</exception>
    /// <exception cref="InvalidOperationException">The plugin's <c>.deps.json</c> cannot be resolved.</exception>
    public PluginLoadContext(string pluginName, string mainAssemblyPath)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        ArgumentNullException.ThrowIfNull(mainAssemblyPath);
        if (!Path.IsPathFullyQualified(mainAssemblyPath))
        {
            throw new ArgumentException($"The plugin's main assembly path must be absolute: '{mainAssemblyPath}'.", nameof(mainAssemblyPath));
        }

        PluginName = pluginName;
        MainAssemblyPath = mainAssemblyPath;
        CheckDependencies();
        _loader = PluginLoader.CreateFromAssemblyFile(
            mainAssemblyPath,
            isUnloadable: true,
            sharedTypes: [.. SharedAssemblies.Types],
            config => config.LoadInMemory = true);
    }

    /// <summary>The plugin's name.</summary>
    public string PluginName { get; }

    /// <summary>The plugin's main assembly.</summary>
    public string MainAssemblyPath { get; }

    /// <summary>The runtime's load context that now holds the plugin's assemblies; a new one after each reload.</summary>
    public AssemblyLoadContext Context => _loader.LoadContext;

    /// <summary>Loads the plugin's main assembly into <see cref="Context"/>.</summary>
    public Assembly LoadMainAssembly() => _loader.LoadDefaultAssembly();

    /// <summary>Resolves <paramref name="assemblyName"/> as the plugin's code would.</summary>
    public Assembly LoadFromAssemblyName(AssemblyName assemblyName) => _loader.LoadAssembly(assemblyName);

    /// <summary>Makes <see cref="Context"/> the one that reflection (<c>Type.GetType</c>, <c>Assembly.Load</c>) resolves in.</summary>
    public AssemblyLoadContext.ContextualReflectionScope EnterContextualReflection() => _loader.EnterContextualReflection();

    /// <summary>
    /// Unloads the current context and makes a new one from the plugin's folder as it is now (a new build copied
    /// there is what loads next). The caller must have dropped every reference to the old context's types.
    /// </summary>
    /// <exception cref="PluginLoadException">The new build would bind to an assembly wrongly; nothing was reloaded.</exception>
    public void Reload()
    {
        CheckDependencies();
        _loader.Reload();
    }

    /// <summary>Unloads the context; it is collected once nothing references the plugin's types.</summary>
    public void Dispose() => _loader.Dispose();

    private void CheckDependencies()
    {
        var resolver = new AssemblyDependencyResolver(MainAssemblyPath);
        PluginDependencyCheck.Run(PluginName, MainAssemblyPath, resolver);
    }
}
