using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Vmm.Contracts;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace Vmm.Core.Plugins;

/// <summary>
/// Finds plugins in folders, loads each into its own <see cref="PluginLoadContext"/> (McMaster.NETCore.Plugins) with
/// its own service container, hands out their device factories, and unloads or reloads them on request (when the
/// host is <see cref="PluginHostOptions.Unloadable"/>).
/// </summary>
/// <remarks>
/// Order of checks when loading: the manifest, the contract version (before any plugin code is loaded), the
/// main assembly, the entry type, the plugin's registrations, and finally the device types its factories report
/// (declared in the manifest, unique across loaded plugins). Every failure is a <see cref="PluginLoadException"/>
/// whose message names the plugin and says what to do.
/// </remarks>
public sealed class PluginHost : IPluginCatalog, IDisposable
{
    private readonly Lock _sync = new();
    private readonly PluginHostOptions _options;
    private readonly ILogger _logger;
    private readonly List<PluginEntry> _entries = [];
    private bool _discovered;
    private bool _disposed;

    /// <summary>Creates a host; nothing is read until <see cref="Discover"/> or <see cref="LoadAll"/>.</summary>
    public PluginHost(PluginHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = options.LoggerFactory.CreateLogger("Vmm.Plugins");
    }

    /// <summary>Whether plugins load into collectible contexts, so that <see cref="Reload"/> can load a new build.</summary>
    public bool CanReload => _options.Unloadable;

    /// <inheritdoc />
    public IReadOnlyList<PluginInfo> Plugins
    {
        get
        {
            lock (_sync)
            {
                return _entries.Select(e => e.ToInfo()).ToArray();
            }
        }
    }

    /// <summary>
    /// Reads the manifests in the search paths. A plugin whose manifest is bad is listed as
    /// <see cref="PluginLoadStatus.Failed"/>. Calling it again only adds folders not seen before.
    /// </summary>
    /// <exception cref="PluginLoadException">A search path does not exist, or holds no plugin at all.</exception>
    public IReadOnlyList<PluginInfo> Discover()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (string searchPath in _options.SearchPaths)
            {
                DiscoverLocked(Path.GetFullPath(searchPath), builtIn: false);
            }

            foreach (string searchPath in _options.BuiltInSearchPaths.Select(p => Path.GetFullPath(p)).Where(Directory.Exists))
            {
                DiscoverLocked(searchPath, builtIn: true);
            }

            _discovered = true;
        }

        return Plugins;
    }

    /// <summary>
    /// Discovers (once) and loads every discovered plugin. An optional plugin that fails is logged as a warning and
    /// marked failed; the others go on.
    /// </summary>
    /// <exception cref="PluginLoadException">A required plugin failed; plugins loaded before it stay loaded.</exception>
    public void LoadAll()
    {
        bool discovered;
        lock (_sync)
        {
            discovered = _discovered;
        }

        if (!discovered)
        {
            Discover();
        }

        lock (_sync)
        {
            foreach (PluginEntry entry in _entries)
            {
                if (entry.Status is PluginLoadStatus.Loaded or PluginLoadStatus.Unloaded)
                {
                    continue;
                }

                if (entry.Status == PluginLoadStatus.Discovered)
                {
                    TryLoadLocked(entry);
                }

                if (entry.Status == PluginLoadStatus.Failed)
                {
                    if (_options.OptionalPlugins.Contains(entry.Name))
                    {
                        PluginHostLog.OptionalPluginFailed(_logger, entry.Failure!, entry.Name);
                        continue;
                    }

                    PluginHostLog.PluginFailed(_logger, entry.Failure!, entry.Name);
                    throw entry.Failure!;
                }
            }
        }
    }

    /// <summary>Loads the discovered plugin <paramref name="pluginName"/> (again, after an unload) and returns its state.</summary>
    /// <exception cref="PluginLoadException">The plugin is unknown or failed to load.</exception>
    public PluginInfo Load(string pluginName)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            PluginEntry entry = FindLocked(pluginName);
            if (entry.Status is PluginLoadStatus.Discovered or PluginLoadStatus.Unloaded)
            {
                TryLoadLocked(entry);
            }

            if (entry.Status == PluginLoadStatus.Failed)
            {
                throw entry.Failure!;
            }

            return entry.ToInfo();
        }
    }

    /// <summary>
    /// Disposes the plugin's container and unloads its load context. The context is collected once nothing
    /// references the plugin's types any more (devices it created must be disposed first). In a host that is not
    /// <see cref="PluginHostOptions.Unloadable"/> the plugin's assemblies stay loaded, and a later <see cref="Load"/>
    /// uses them again.
    /// </summary>
    /// <exception cref="PluginLoadException">No plugin has that name.</exception>
    public void Unload(string pluginName)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        lock (_sync)
        {
            PluginEntry entry = FindLocked(pluginName);
            if (entry.Status != PluginLoadStatus.Loaded)
            {
                return;
            }

            ReleaseLocked(entry);
            entry.Status = PluginLoadStatus.Unloaded;
            PluginHostLog.PluginUnloaded(_logger, entry.Name);
        }
    }

    /// <summary>
    /// Unloads a loaded plugin and loads it again from its folder as it is now, through the same loader: a new build
    /// copied over the folder is what runs next, with its manifest read again. A plugin not loaded is just loaded.
    /// Devices the plugin created must be disposed first, as for <see cref="Unload"/>.
    /// </summary>
    /// <exception cref="PluginLoadException">
    /// No plugin has that name, or the host is not <see cref="PluginHostOptions.Unloadable"/> (the plugin is left as it
    /// was), or the new build failed to load (it is then marked failed).
    /// </exception>
    public PluginInfo Reload(string pluginName)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            PluginEntry entry = FindLocked(pluginName);
            if (!_options.Unloadable)
            {
                throw new PluginLoadException(
                    entry.Name,
                    $"Plugin '{entry.Name}' cannot be reloaded: this host loads plugins into load contexts that cannot be unloaded "
                        + "(vmm does so unless the VM's config has a \"control\" socket). Restart with a control socket to reload plugins.");
            }

            if (entry.Status == PluginLoadStatus.Loaded)
            {
                ReleaseServicesLocked(entry);
                try
                {
                    entry.Manifest = PluginManifestReader.Read(Path.Combine(entry.Directory, PluginManifest.FileName));
                }
                catch (PluginManifestException e)
                {
                    ReleaseLocked(entry);
                    entry.Status = PluginLoadStatus.Failed;
                    entry.Failure = new PluginLoadException(
                        entry.Name,
                        $"Plugin '{entry.Name}' has a bad manifest: {e.Message} Fix {PluginManifest.FileName} (see docs/writing-a-plugin.md).",
                        e);
                    throw entry.Failure;
                }

                TryLoadLocked(entry);
                if (entry.Status == PluginLoadStatus.Loaded)
                {
                    PluginHostLog.PluginReloaded(_logger, entry.Name, entry.Manifest.Version);
                }
            }
            else if (entry.Status is PluginLoadStatus.Discovered or PluginLoadStatus.Unloaded)
            {
                TryLoadLocked(entry);
            }

            if (entry.Status == PluginLoadStatus.Failed)
            {
                throw entry.Failure!;
            }

            return entry.ToInfo();
        }
    }

    /// <inheritdoc />
    public bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        ArgumentNullException.ThrowIfNull(deviceType);
        lock (_sync)
        {
            foreach (PluginEntry entry in _entries)
            {
                if (entry.Status == PluginLoadStatus.Loaded
                    && entry.Name == pluginName
                    && entry.Factories.TryGetValue(deviceType, out factory))
                {
                    return true;
                }
            }
        }

        factory = null;
        return false;
    }

    /// <summary>Finds the factory for <paramref name="deviceType"/> in whichever loaded plugin provides it.</summary>
    public bool TryFindFactory(string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory, [NotNullWhen(true)] out string? pluginName)
    {
        ArgumentNullException.ThrowIfNull(deviceType);
        lock (_sync)
        {
            foreach (PluginEntry entry in _entries)
            {
                if (entry.Status == PluginLoadStatus.Loaded && entry.Factories.TryGetValue(deviceType, out factory))
                {
                    pluginName = entry.Name;
                    return true;
                }
            }
        }

        factory = null;
        pluginName = null;
        return false;
    }

    /// <summary>
    /// Gets the service provider of a loaded plugin: what <see cref="DeviceCreateContext.Services"/> should be for
    /// devices its factories create.
    /// </summary>
    public bool TryGetServices(string pluginName, [NotNullWhen(true)] out IServiceProvider? services)
    {
        ArgumentNullException.ThrowIfNull(pluginName);
        lock (_sync)
        {
            foreach (PluginEntry entry in _entries)
            {
                if (entry.Status == PluginLoadStatus.Loaded && entry.Name == pluginName)
                {
                    services = entry.Services!;
                    return true;
                }
            }
        }

        services = null;
        return false;
    }

    /// <summary>Unloads every loaded plugin.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (PluginEntry entry in _entries)
            {
                if (entry.Status == PluginLoadStatus.Loaded)
                {
                    ReleaseLocked(entry);
                    entry.Status = PluginLoadStatus.Unloaded;
                }
            }
        }
    }

    private void DiscoverLocked(string searchPath, bool builtIn)
    {
        string searchName = Path.GetFileName(Path.TrimEndingDirectorySeparator(searchPath));
        if (!Directory.Exists(searchPath))
        {
            throw new PluginLoadException(
                searchName,
                $"Plugin folder '{searchPath}' does not exist. Create it and put plugins in it, or remove it from the plugin search paths.");
        }

        if (File.Exists(Path.Combine(searchPath, PluginManifest.FileName)))
        {
            AddLocked(searchPath, builtIn);
            return;
        }

        bool found = false;
        foreach (string directory in Directory.EnumerateDirectories(searchPath).Order(StringComparer.Ordinal))
        {
            if (File.Exists(Path.Combine(directory, PluginManifest.FileName)))
            {
                AddLocked(directory, builtIn);
                found = true;
            }
            else
            {
                PluginHostLog.FolderSkipped(_logger, directory);
            }
        }

        if (!found && !builtIn)
        {
            throw new PluginLoadException(
                searchName,
                $"Plugin folder '{searchPath}' holds no {PluginManifest.FileName}, and none of its subfolders does. "
                    + $"Put each plugin's build output, with its {PluginManifest.FileName}, in a folder of its own there.");
        }
    }

    private void AddLocked(string directory, bool builtIn)
    {
        if (_entries.Any(e => e.Directory == directory))
        {
            return;
        }

        string manifestPath = Path.Combine(directory, PluginManifest.FileName);
        PluginManifest manifest;
        try
        {
            manifest = PluginManifestReader.Read(manifestPath);
        }
        catch (PluginManifestException e)
        {
            string folderName = Path.GetFileName(directory);
            _entries.Add(new PluginEntry(folderName, directory, manifest: null)
            {
                Status = PluginLoadStatus.Failed,
                Failure = new PluginLoadException(
                    folderName,
                    $"Plugin '{folderName}' has a bad manifest: {e.Message} Fix {PluginManifest.FileName} (see docs/writing-a-plugin.md).",
                    e),
            });
            return;
        }

        var entry = new PluginEntry(manifest.Name, directory, manifest);
        PluginEntry? twin = _entries.FirstOrDefault(e => e.Name == manifest.Name);
        if (twin is not null && builtIn)
        {
            PluginHostLog.BuiltInPluginShadowed(_logger, manifest.Name, directory, twin.Directory);
            return;
        }

        if (twin is not null)
        {
            entry.Status = PluginLoadStatus.Failed;
            entry.Failure = new PluginLoadException(
                manifest.Name,
                $"Plugin '{manifest.Name}' is found twice: in '{twin.Directory}' and in '{directory}'. Remove one of them.");
        }

        _entries.Add(entry);
        PluginHostLog.PluginDiscovered(_logger, manifest.Name, manifest.Version, entry.ToInfo().ContractVersion, directory);
    }

    private PluginEntry FindLocked(string pluginName)
        => _entries.FirstOrDefault(e => e.Name == pluginName)
            ?? throw new PluginLoadException(
                pluginName,
                $"Plugin '{pluginName}' was not found in the plugin search paths ({string.Join(", ", _options.SearchPaths)}). "
                    + "Check its name, or add the folder that holds it.");

    private void TryLoadLocked(PluginEntry entry)
    {
        try
        {
            LoadLocked(entry);
            entry.Status = PluginLoadStatus.Loaded;
            entry.Failure = null;
            PluginHostLog.PluginLoaded(_logger, entry.Name, string.Join(", ", entry.Factories.Keys));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReleaseLocked(entry);
            entry.Status = PluginLoadStatus.Failed;
            entry.Failure = e as PluginLoadException
                ?? new PluginLoadException(entry.Name, $"Plugin '{entry.Name}' failed to load: {e.GetType().Name}: {e.Message}", e);
        }
    }

    private void LoadLocked(PluginEntry entry)
    {
        PluginManifest manifest = entry.Manifest!;
        string name = entry.Name;

        // The contract version is checked before any of the plugin's code is loaded.
        if (!ContractVersion.IsCompatible(manifest.ContractVersion))
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' targets contract {manifest.ContractVersion.Major}.{manifest.ContractVersion.Minor}; "
                    + $"this host provides {ContractVersion.Major}.{ContractVersion.Minor}. "
                    + "Use a build of the plugin made for this contract version, or a host that provides its version.");
        }

        string assemblyPath = Path.Combine(entry.Directory, manifest.Assembly);
        if (!File.Exists(assemblyPath))
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' names the assembly '{manifest.Assembly}' in its manifest, but '{assemblyPath}' does not exist. "
                    + "Copy the plugin's whole build output into its folder.");
        }

        try
        {
            // A loaded-before plugin keeps its loader: reloading it makes a new context from the folder as it is now. One
            // that cannot be unloaded still holds its assemblies, which are used again.
            if (entry.LoadContext is { IsUnloadable: true } context)
            {
                context.Reload();
            }
            else
            {
                entry.LoadContext ??= new PluginLoadContext(name, assemblyPath, _options.Unloadable);
            }
        }
        catch (InvalidOperationException e)
        {
            // The host resolver failed on the plugin's .deps.json, usually because a listed file is missing.
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' is missing a dependency its .deps.json lists: {e.Message} Copy the plugin's whole build output into its folder.",
                e);
        }
        catch (BadImageFormatException e)
        {
            throw BadImage(name, e);
        }

        try
        {
            using (entry.LoadContext.EnterContextualReflection())
            {
                Assembly assembly = entry.LoadContext.LoadMainAssembly();
                IVmmPlugin plugin = CreateEntryPoint(name, assembly, manifest.EntryPoint);
                var services = new ServiceCollection();
                SeedSharedServices(services);
                try
                {
                    plugin.ConfigureServices(services);
                }
                catch (Exception e) when (e is not (FileNotFoundException or FileLoadException or BadImageFormatException))
                {
                    throw new PluginLoadException(
                        name,
                        $"Plugin '{name}' threw while registering its services: {e.GetType().Name}: {Sentence(e.Message)} "
                            + "This is a bug in the plugin: report it to its author, or remove the plugin.",
                        e);
                }

                entry.Services = services.BuildServiceProvider();
                CollectFactoriesLocked(entry, entry.Services);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException)
        {
            throw DependencyFailure(name, e);
        }
        catch (BadImageFormatException e)
        {
            throw BadImage(name, e);
        }
    }

    private static PluginLoadException BadImage(string name, BadImageFormatException e)
        => new(name, $"Plugin '{name}' has an assembly that is not a valid .NET assembly: {e.Message} Rebuild the plugin.", e);

    private static PluginLoadException DependencyFailure(string name, Exception e)
    {
        string? dependency = (e as FileNotFoundException)?.FileName ?? (e as FileLoadException)?.FileName;
        if (e is FileNotFoundException)
        {
            return new PluginLoadException(
                name,
                $"Plugin '{name}' is missing its dependency '{dependency}'. "
                    + "Copy the plugin's whole build output (its dlls and .deps.json) into its folder.",
                e);
        }

        // The runtime wraps what PluginLoadContext.Load throws; the inner message is the one that says why.
        string detail = e.InnerException is FileLoadException or FileNotFoundException ? e.InnerException.Message : e.Message;
        return new PluginLoadException(name, $"Plugin '{name}' cannot load its dependency '{dependency}': {detail}", e);
    }

    private static string Sentence(string message) => message.EndsWith('.') ? message : message + ".";

    private static IVmmPlugin CreateEntryPoint(string name, Assembly assembly, string entryPointName)
    {
        Type? type = assembly.GetType(entryPointName, throwOnError: false);
        if (type is null)
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' names the entry point '{entryPointName}', which is not a type in {assembly.GetName().Name}. "
                    + "Fix \"entryPoint\" in its manifest (a full type name).");
        }

        if (!typeof(IVmmPlugin).IsAssignableFrom(type) || type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null || !type.IsPublic)
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' names the entry point '{entryPointName}', which must be a public, non-abstract class "
                    + $"implementing {typeof(IVmmPlugin).FullName} with a public parameterless constructor.");
        }

        try
        {
            return (IVmmPlugin)Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not (FileNotFoundException or FileLoadException))
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' threw in the constructor of '{entryPointName}': {e.InnerException?.Message}",
                e.InnerException);
        }
        catch (TargetInvocationException e)
        {
            throw e.InnerException!;
        }
    }

    private void SeedSharedServices(ServiceCollection services)
    {
        foreach (ServiceDescriptor descriptor in _options.SharedServices)
        {
            services.Add(descriptor);
        }

        services.TryAddSingleton(_options.LoggerFactory);
        services.TryAdd(ServiceDescriptor.Singleton(typeof(ILogger<>), typeof(Logger<>)));
    }

    private void CollectFactoriesLocked(PluginEntry entry, ServiceProvider services)
    {
        PluginManifest manifest = entry.Manifest!;
        string name = entry.Name;
        IEnumerable<IDeviceFactory> factories;
        try
        {
            factories = services.GetServices<IDeviceFactory>().ToArray();
        }
        catch (Exception e) when (e is not (FileNotFoundException or FileLoadException))
        {
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' failed to create its device factories: {e.GetType().Name}: {Sentence(e.Message)} "
                    + "This is a bug in the plugin: report it to its author, or remove the plugin.",
                e);
        }

        foreach (IDeviceFactory factory in factories)
        {
            string deviceType = factory.DeviceType;
            if (!manifest.DeviceTypes.Contains(deviceType, StringComparer.Ordinal))
            {
                throw new PluginLoadException(
                    name,
                    $"Plugin '{name}' registers a factory for device type '{deviceType}', which its manifest does not declare "
                        + $"(it declares: {string.Join(", ", manifest.DeviceTypes)}). Add it to \"deviceTypes\" in {PluginManifest.FileName}.");
            }

            PluginEntry? owner = _entries.FirstOrDefault(e => e != entry && e.Status == PluginLoadStatus.Loaded && e.Factories.ContainsKey(deviceType));
            if (owner is not null)
            {
                throw new PluginLoadException(
                    name,
                    $"Plugin '{name}' provides device type '{deviceType}', which plugin '{owner.Name}' already provides. "
                        + "Device types must be unique: remove one of the two plugins.");
            }

            if (!entry.Factories.TryAdd(deviceType, factory))
            {
                throw new PluginLoadException(
                    name,
                    $"Plugin '{name}' registers two factories for device type '{deviceType}'. Register one.");
            }
        }

        // A declared type without a factory would load, list as loaded and then fail every config that names it.
        string[] unregistered = [.. manifest.DeviceTypes.Where(t => !entry.Factories.ContainsKey(t))];
        if (unregistered.Length > 0)
        {
            string registered = entry.Factories.Count == 0 ? "none" : string.Join(", ", entry.Factories.Keys);
            throw new PluginLoadException(
                name,
                $"Plugin '{name}' declares device type{(unregistered.Length == 1 ? "" : "s")} '{string.Join("', '", unregistered)}' in its manifest "
                    + $"but registers no factory for {(unregistered.Length == 1 ? "it" : "them")} (it registers: {registered}). "
                    + $"Register a factory for each declared type, or remove the type from \"deviceTypes\" in {PluginManifest.FileName}.");
        }
    }

    private void ReleaseLocked(PluginEntry entry)
    {
        ReleaseServicesLocked(entry);
        if (entry.LoadContext is { IsUnloadable: true } context)
        {
            entry.LoadContext = null;
            context.Dispose();
        }
    }

    private void ReleaseServicesLocked(PluginEntry entry)
    {
        entry.Factories.Clear();

        // System.Text.Json's process-wide accessor cache would keep the plugin's options types for a while.
        Config.DeviceOptionsSerializer.ForgetUnloadedTypes();
        if (entry.Services is { } services)
        {
            entry.Services = null;
            try
            {
                services.Dispose();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                PluginHostLog.PluginDisposeFailed(_logger, e, entry.Name);
            }
        }
    }
}
