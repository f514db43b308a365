using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.CrossDomain;

internal static partial class CrossDomainLog
{
    [LoggerMessage(1, LogLevel.Debug, "cross-domain context {ContextId} ('{Name}') created", EventName = "ContextCreated")]
    public static partial void ContextCreated(ILogger logger, uint contextId, string name);

    [LoggerMessage(2, LogLevel.Information, "cross-domain context {ContextId}: channel 0x{Channel:x} connected to '{Display}'", EventName = "ChannelConnected")]
    public static partial void ChannelConnected(ILogger logger, uint contextId, uint channel, string display);

    [LoggerMessage(3, LogLevel.Debug, "cross-domain context {ContextId}: command refused: {Reason}", EventName = "CommandRefused")]
    public static partial void CommandRefused(ILogger logger, uint contextId, string reason);

    [LoggerMessage(4, LogLevel.Warning, "cross-domain context {ContextId}: the host side failed; the channel reports end of stream", EventName = "HostFailed")]
    public static partial void HostFailed(ILogger logger, Exception exception, uint contextId);

    [LoggerMessage(5, LogLevel.Debug, "cross-domain context {ContextId}: a descriptor from the host ({What}) has no cross-domain type; closed", EventName = "FdDropped")]
    public static partial void FdDropped(ILogger logger, uint contextId, string what);
}
