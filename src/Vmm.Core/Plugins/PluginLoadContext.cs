using System.Reflection;
using System.Runtime.Loader;
using McMaster.NETCore.Plugins.Loader;

namespace Vmm.Core.Plugins;

/// <summary>
/// The load context of one plugin: McMaster.NETCore.Plugins' load context, made by its
/// <see cref="AssemblyLoadContextBuilder"/> with <see cref="SharedAssemblies"/> preferred from the host. Shared
/// assemblies come from the host; the framework comes from the runtime; everything else, managed or native, comes from
/// the plugin's folder as its <c>.deps.json</c> describes.
/// </summary>
/// <remarks>
/// <para>
/// Shared assemblies are shared by name: the builder's lazy mode (<see cref="AssemblyLoadContextBuilder.IsLazyLoaded"/>)
/// takes each shared assembly and its direct references from the host, and a reference's own references only once
/// the plugin asks for it. Its default mode loads the whole reference closure of the shared assemblies into the host's
/// context first, to list their names: 44 framework assemblies (System.Net.Http, System.Private.Xml, ...) opened
/// for any plugin.
/// </para>
/// <para>
/// The builder is used without McMaster's <c>PluginLoader</c>, which wraps it: that one also reads the plugin's and
/// every <c>*.runtimeconfig.json</c> next to vmm with reflection-based System.Text.Json and looks up the process's main
/// module, for additional probing paths (a development-time NuGet cache feature) that a plugin published with its
/// dependencies never needs, and it has no option to leave that out (tools/bench/README.md, start-up, third round).
/// </para>
/// <para>
/// A context is collectible only when it is made <c>unloadable</c> (plugin reload): the runtime ignores ReadyToRun
/// code in a collectible context (dotnet/runtime#40704), so there every plugin method is JIT-compiled. An unloadable
/// context reads assemblies into memory rather than mapping their files, so a new build can be copied over the
/// plugin's folder while the old one still runs, and then loaded by <see cref="Reload"/>; one that is not unloadable
/// maps them.
/// </para>
/// <para>
/// Before the context is made, and again before each <see cref="Reload"/>, <see cref="PluginDependencyCheck"/> reads
/// the plugin's references: the context would otherwise fall back silently to a private copy of a newer shared
/// assembly (whose types would not match the host's) or to the host's copy of an assembly it does not share.
/// </para>
/// </remarks>
public sealed class PluginLoadContext : IDisposable
{
    private readonly AssemblyLoadContextBuilder _builder;
    private AssemblyLoadContext _context;
    private bool _disposed;

    /// <summary>Checks the plugin's references and creates its load context; no plugin code runs yet.</summary>
    /// <param name="pluginName">The plugin's name, which every error names.</param>
    /// <param name="mainAssemblyPath">The absolute path of the plugin's main assembly.</param>
    /// <param name="unloadable">
    /// Whether the context is collectible, for <see cref="Reload"/> and for <see cref="Dispose"/> to free it; otherwise
    /// the plugin's assemblies stay loaded until the process ends and their ReadyToRun code is used.
    /// </param>
    /// <exception cref="PluginLoadException">The plugin would bind to an assembly wrongly (see <see cref="PluginDependencyCheck"/>).</exception>
    /// <exception cref="InvalidOperationException">The plugin's <c>.deps.json</c> cannot be resolved.</exception>
    public PluginLoadContext(string pluginName, string mainAssemblyPath, bool unloadable = true)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        ArgumentNullException.ThrowIfNull(mainAssemblyPath);
        if (!Path.IsPathFullyQualified(mainAssemblyPath))
        {
            throw new ArgumentException($"The plugin's main assembly path must be absolute: '{mainAssemblyPath}'.", nameof(mainAssemblyPath));
        }

        PluginName = pluginName;
        MainAssemblyPath = mainAssemblyPath;
        IsUnloadable = unloadable;
        CheckDependencies();
        _builder = CreateBuilder(mainAssemblyPath, unloadable);
        _context = _builder.Build();
    }

    /// <summary>The plugin's name.</summary>
    public string PluginName { get; }

    /// <summary>The plugin's main assembly.</summary>
    public string MainAssemblyPath { get; }

    /// <summary>Whether the context is collectible: <see cref="Reload"/> works and <see cref="Dispose"/> frees it.</summary>
    public bool IsUnloadable { get; }

    /// <summary>The runtime's load context that now holds the plugin's assemblies; a new one after each reload.</summary>
    public AssemblyLoadContext Context => _context;

    /// <summary>Loads the plugin's main assembly into <see cref="Context"/>.</summary>
    public Assembly LoadMainAssembly()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _context.LoadFromAssemblyName(new AssemblyName(Path.GetFileNameWithoutExtension(MainAssemblyPath)));
    }

    /// <summary>Resolves <paramref name="assemblyName"/> as the plugin's code would.</summary>
    public Assembly LoadFromAssemblyName(AssemblyName assemblyName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _context.LoadFromAssemblyName(assemblyName);
    }

    /// <summary>Makes <see cref="Context"/> the one that reflection (<c>Type.GetType</c>, <c>Assembly.Load</c>) resolves in.</summary>
    public AssemblyLoadContext.ContextualReflectionScope EnterContextualReflection() => _context.EnterContextualReflection();

    /// <summary>
    /// Unloads the current context and makes a new one from the plugin's folder as it is now (a new build copied
    /// there is what loads next). The caller must have dropped every reference to the old context's types.
    /// </summary>
    /// <exception cref="PluginLoadException">The new build would bind to an assembly wrongly; nothing was reloaded.</exception>
    /// <exception cref="InvalidOperationException">The context is not <see cref="IsUnloadable"/>.</exception>
    public void Reload()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsUnloadable)
        {
            throw new InvalidOperationException($"Plugin '{PluginName}' was loaded into a context that cannot be unloaded, so it cannot be reloaded.");
        }

        CheckDependencies();
        _context.Unload();
        _context = _builder.Build();
    }

    /// <summary>
    /// Unloads an unloadable context; it is collected once nothing references the plugin's types. Does nothing to one
    /// that is not unloadable.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_context.IsCollectible)
        {
            _context.Unload();
        }
    }

    private static AssemblyLoadContextBuilder CreateBuilder(string mainAssemblyPath, bool unloadable)
    {
        var builder = new AssemblyLoadContextBuilder()
            .SetMainAssemblyPath(mainAssemblyPath)
            .SetDefaultContext(AssemblyLoadContext.GetLoadContext(typeof(PluginLoadContext).Assembly) ?? AssemblyLoadContext.Default)
            .IsLazyLoaded(true);
        if (unloadable)
        {
            builder.EnableUnloading().PreloadAssembliesIntoMemory().ShadowCopyNativeLibraries();
        }

        // Lazy mode must be set before the shared names are added: adding one in the default mode walks its closure.
        foreach (Assembly shared in SharedAssemblies.Types.Select(t => t.Assembly).Distinct())
        {
            builder.PreferDefaultLoadContextAssembly(shared.GetName());
        }

        return builder;
    }

    private void CheckDependencies()
    {
        var resolver = new AssemblyDependencyResolver(MainAssemblyPath);
        PluginDependencyCheck.Run(PluginName, MainAssemblyPath, resolver);
    }
}
