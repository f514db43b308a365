using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Gpu;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain;

/// <summary>The cross-domain context type: capset 5 in libkrun's dialect, one <see cref="CrossDomainContext"/> per CTX_CREATE.</summary>
internal sealed class CrossDomainContextType(CrossDomainSettings settings, ILoggerFactory? loggerFactory = null) : IGpuContextType
{
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vmm.CrossDomain");

    /// <inheritdoc />
    public uint CapsetId => CrossDomainLayout.CapsetId;

    /// <inheritdoc />
    /// <remarks>Rutabaga answers GET_CAPSET_INFO with version 0; the capset's own version field says 1.</remarks>
    public uint CapsetMaxVersion => 0;

    /// <inheritdoc />
    public int CapsetMaxSize => CrossDomainLayout.Capabilities.Size;

    /// <summary>The settings the contexts connect by.</summary>
    public CrossDomainSettings Settings => settings;

    /// <inheritdoc />
    public int WriteCapset(uint version, Span<byte> destination) => CrossDomainMessages.WriteCapabilities(destination, settings.SupportedChannels);

    /// <inheritdoc />
    public IGpuContext CreateContext(GpuContextCreateInfo info, IGpuContextHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        CrossDomainLog.ContextCreated(_logger, info.ContextId, info.DebugName);
        return new CrossDomainContext(info.ContextId, host, settings, _logger);
    }
}
