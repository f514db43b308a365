using System.Reflection;
using System.Runtime.Loader;

namespace Vmm.Core.Plugins;

/// <summary>
/// The collectible load context of one plugin. Shared assemblies (<see cref="SharedAssemblies"/>) come from the
/// host; the framework comes from the runtime; everything else, managed or native, comes from the plugin's folder
/// as its <c>.deps.json</c> describes.
/// </summary>
/// <remarks>
/// Unlike McMaster.NETCore.Plugins there is no silent fallback: a plugin that asks for a newer shared assembly
/// than the host has fails with <see cref="FileLoadException"/> instead of loading a private copy whose types
/// would not match the host's.
/// </remarks>
public sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly string s_frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? string.Empty;

    private readonly AssemblyDependencyResolver _resolver;

    /// <summary>Creates the context for the plugin whose main assembly is <paramref name="mainAssemblyPath"/>.</summary>
    /// <param name="pluginName">The plugin's name; the context is named after it.</param>
    /// <param name="mainAssemblyPath">The absolute path of the plugin's main assembly.</param>
    /// <exception cref="InvalidOperationException">The plugin's <c>.deps.json</c> cannot be resolved.</exception>
    public PluginLoadContext(string pluginName, string mainAssemblyPath)
        : base("Vmm.Plugin." + pluginName, isCollectible: true)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        ArgumentNullException.ThrowIfNull(mainAssemblyPath);
        if (!Path.IsPathFullyQualified(mainAssemblyPath))
        {
            throw new ArgumentException($"The plugin's main assembly path must be absolute: '{mainAssemblyPath}'.", nameof(mainAssemblyPath));
        }

        PluginName = pluginName;
        MainAssemblyPath = mainAssemblyPath;
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
    }

    /// <summary>The plugin's name.</summary>
    public string PluginName { get; }

    /// <summary>The plugin's main assembly.</summary>
    public string MainAssemblyPath { get; }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        ArgumentNullException.ThrowIfNull(assemblyName);
        if (SharedAssemblies.IsShared(assemblyName.Name))
        {
            return LoadShared(assemblyName);
        }

        string? path = _resolver.ResolveAssemblyToPath(assemblyName);
        if (path is not null)
        {
            return LoadFromAssemblyPath(path);
        }

        if (IsFrameworkAssembly(assemblyName))
        {
            // The runtime shares the framework with every context: let the default context answer.
            return null;
        }

        throw new FileNotFoundException(
            $"Plugin '{PluginName}' needs '{assemblyName.FullName}', which is neither in its folder nor shared by the host. "
                + "Publish the plugin with its dependencies next to its assembly.",
            assemblyName.FullName);
    }

    /// <inheritdoc />
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    private Assembly LoadShared(AssemblyName requested)
    {
        // Ask by simple name: the host's copy is the one every other plugin sees too.
        Assembly host;
        try
        {
            host = Default.LoadFromAssemblyName(new AssemblyName(requested.Name!));
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException(
                $"Plugin '{PluginName}' needs the shared assembly '{requested.FullName}', which the host does not carry.",
                requested.FullName,
                e);
        }

        Version? hostVersion = host.GetName().Version;
        if (requested.Version is not null && hostVersion is not null && requested.Version > hostVersion)
        {
            throw new FileLoadException(
                $"Plugin '{PluginName}' was built against '{requested.Name}' {requested.Version}, newer than the host's {hostVersion}. "
                    + "Rebuild the plugin against the host's version, or update the host.",
                requested.FullName);
        }

        return host;
    }

    private static bool IsFrameworkAssembly(AssemblyName assemblyName)
        => assemblyName.Name is { Length: > 0 } name
            && File.Exists(Path.Combine(s_frameworkDirectory, name + ".dll"));
}
