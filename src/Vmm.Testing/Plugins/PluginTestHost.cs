using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Plugins;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Testing.Plugins;

/// <summary>
/// What a plugin's own tests need, with no host type in sight: load the plugin's build folder as <c>vmm</c> does
/// (its own load context, the same checks and errors), create a device from options JSON as a config's
/// <c>devices[].options</c> would give it, and attach it to an <see cref="InProcessMachine"/> where
/// <see cref="VirtioPciDriver"/> drives it as Linux does.
/// </summary>
/// <example>
/// <code>
/// using var host = PluginTestHost.Load(Path.Combine(AppContext.BaseDirectory, "plugin"));
/// using IDevice device = host.CreateDevice("my-device", """{ "size": 16 }""");
/// VirtioPciDriver driver = host.AttachAndOpen((IVirtioDevice)device);
/// </code>
/// </example>
public sealed class PluginTestHost : IDisposable
{
    private readonly PluginHost _host;
    private readonly ILoggerFactory _loggerFactory;
    private readonly List<IDevice> _devices = [];
    private readonly List<IVirtioDevice> _attached = [];
    private InProcessMachine? _machine;
    private int _nextId;

    private PluginTestHost(PluginHost host, PluginInfo plugin, ILoggerFactory loggerFactory)
    {
        _host = host;
        _loggerFactory = loggerFactory;
        Name = plugin.Name;
        Version = plugin.Version;
        ContractVersion = plugin.ContractVersion;
        DeviceTypes = plugin.DeviceTypes;
    }

    /// <summary>The plugin's name, from its manifest.</summary>
    public string Name { get; }

    /// <summary>The plugin's version, from its manifest.</summary>
    public string Version { get; }

    /// <summary>The contract version the manifest names (<c>Major.Minor</c>).</summary>
    public string ContractVersion { get; }

    /// <summary>The device types the plugin provides.</summary>
    public IReadOnlyList<string> DeviceTypes { get; }

    /// <summary>
    /// The in-process machine devices are attached to, made on first use (64 MiB of guest memory). Disposed with
    /// the host.
    /// </summary>
    public InProcessMachine Machine => _machine ??= new InProcessMachine(loggerFactory: _loggerFactory);

    /// <summary>Loads the one plugin in <paramref name="pluginFolder"/> (the folder that holds its <c>vmm-plugin.json</c>).</summary>
    /// <exception cref="PluginTestHostException">The plugin failed to load; the message is the one <c>vmm</c> would print.</exception>
    public static PluginTestHost Load(string pluginFolder, ILoggerFactory? loggerFactory = null) => Load(pluginFolder, timeProvider: null, loggerFactory);

    /// <summary>
    /// Loads the one plugin in <paramref name="pluginFolder"/> with <paramref name="timeProvider"/> as the
    /// <see cref="TimeProvider"/> its services resolve (a <see cref="Time.ManualTimeProvider"/> makes its timers the test's).
    /// </summary>
    /// <exception cref="PluginTestHostException">The plugin failed to load; the message is the one <c>vmm</c> would print.</exception>
    public static PluginTestHost Load(string pluginFolder, TimeProvider? timeProvider, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(pluginFolder);
        ILoggerFactory logging = loggerFactory ?? NullLoggerFactory.Instance;
        var options = new PluginHostOptions { LoggerFactory = logging };
        if (timeProvider is not null)
        {
            options.SharedServices.Add(ServiceDescriptor.Singleton(timeProvider));
        }

        options.SearchPaths.Add(Path.GetFullPath(pluginFolder));
        var host = new PluginHost(options);
        try
        {
            host.LoadAll();
            PluginInfo plugin = host.Plugins.Single();
            return new PluginTestHost(host, plugin, logging);
        }
        catch (PluginLoadException e)
        {
            host.Dispose();
            throw new PluginTestHostException(e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            host.Dispose();
            throw new PluginTestHostException($"'{pluginFolder}' must hold exactly one plugin: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks <paramref name="optionsJson"/> as <c>vmm config validate</c> does for a device of
    /// <paramref name="deviceType"/>, and returns each problem as <c>path: message</c> (none when it is valid).
    /// </summary>
    public IReadOnlyList<string> Validate(string deviceType, string optionsJson, string? baseDirectory = null)
    {
        (_, _, List<string> errors) = ReadAndValidate(deviceType, optionsJson, baseDirectory ?? Directory.GetCurrentDirectory());
        return errors;
    }

    /// <summary>
    /// Creates a device of <paramref name="deviceType"/> from <paramref name="optionsJson"/> (a JSON object, as in a
    /// config's <c>devices[].options</c>). The device is disposed with the host unless the test disposes it first.
    /// </summary>
    /// <exception cref="PluginTestHostException">The options are not valid; the message lists each problem.</exception>
    public IDevice CreateDevice(string deviceType, string optionsJson = "{}", string? id = null, string? baseDirectory = null, IMeterFactory? meterFactory = null)
    {
        string directory = baseDirectory ?? Directory.GetCurrentDirectory();
        (IDeviceFactory factory, object? options, List<string> errors) = ReadAndValidate(deviceType, optionsJson, directory);
        if (errors.Count > 0 || options is null)
        {
            throw new PluginTestHostException($"The options for '{deviceType}' are not valid:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        }

        if (!_host.TryGetServices(Name, out IServiceProvider? services))
        {
            throw new PluginTestHostException($"Plugin '{Name}' is not loaded.");
        }

        var context = new DeviceCreateContext(id ?? $"{deviceType}{_nextId++}", _loggerFactory, meterFactory, services, directory);
        IDevice device = factory.Create(context, options);
        _devices.Add(device);
        return device;
    }

    /// <summary>Puts a virtio device behind a virtio-pci transport on <see cref="Machine"/>'s PCI bus.</summary>
    public void Attach(IVirtioDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Machine.AttachVirtioDevice(device);
        _attached.Add(device);
    }

    /// <summary>Puts a plain PCI device on <see cref="Machine"/>'s PCI bus and activates it.</summary>
    public void Attach(IPciDevice device) => Machine.AttachPciDevice(device);

    /// <summary>Attaches <paramref name="device"/> and opens the guest driver on it, not yet initialized.</summary>
    public VirtioPciDriver AttachAndOpen(IVirtioDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        int instance = _attached.Count(d => d.DeviceType == device.DeviceType);
        Attach(device);
        return VirtioPciDriver.Open(Machine, device.DeviceType, instance);
    }

    /// <summary>Stops the machine, disposes the devices it created, and unloads the plugin.</summary>
    public void Dispose()
    {
        _machine?.Dispose();
        foreach (IDevice device in _devices)
        {
            device.Dispose();
        }

        _devices.Clear();
        _host.Dispose();
    }

    private (IDeviceFactory Factory, object? Options, List<string> Errors) ReadAndValidate(string deviceType, string optionsJson, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(deviceType);
        ArgumentNullException.ThrowIfNull(optionsJson);
        if (!_host.TryGetFactory(Name, deviceType, out IDeviceFactory? factory))
        {
            throw new PluginTestHostException($"Plugin '{Name}' has no device type '{deviceType}' (it has: {string.Join(", ", DeviceTypes)}).");
        }

        const string optionsPath = "$.devices[0].options";
        var configErrors = new List<ConfigError>();
        using JsonDocument document = JsonDocument.Parse(optionsJson);
        object? options = DeviceOptionsReader.Read(new RawValue(optionsPath, document.RootElement), optionsPath, factory.OptionsType, configErrors);
        var errors = configErrors.Select(e => e.ToString()).ToList();
        if (options is not null)
        {
            var validation = new DeviceOptionsValidationContext(optionsPath, baseDirectory);
            factory.Validate(options, validation);
            errors.AddRange(validation.Errors.Select(e => $"{e.Path}: {e.Message}"));
        }

        return (factory, options, errors);
    }
}
