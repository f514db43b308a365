using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Vmm.Contracts.Devices;

/// <summary>What a factory gets when it creates a device.</summary>
public sealed class DeviceCreateContext
{
    /// <summary>Creates a context.</summary>
    public DeviceCreateContext(string id, ILoggerFactory loggerFactory, IMeterFactory? meterFactory, IServiceProvider services, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(services);
        Id = id;
        LoggerFactory = loggerFactory;
        MeterFactory = meterFactory;
        Services = services;
        BaseDirectory = baseDirectory;
    }

    /// <summary>The device's id from the config.</summary>
    public string Id { get; }

    /// <summary>Where the device's logger comes from; name loggers <c>Vmm.&lt;Component&gt;</c>.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Where the device's meters come from (<c>Vmm.&lt;Component&gt;</c>); null when metrics are off.</summary>
    public IMeterFactory? MeterFactory { get; }

    /// <summary>The plugin's services, which include the host's shared ones (display and input routers).</summary>
    public IServiceProvider Services { get; }

    /// <summary>The folder relative paths in the config are resolved against.</summary>
    public string BaseDirectory { get; }
}
