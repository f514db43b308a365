using Microsoft.Extensions.Logging;

namespace Vmm.Core.Display;

internal static partial class DisplayRouterLog
{
    [LoggerMessage(1, LogLevel.Information, "Display source is now '{SourceId}'", EventName = "SourceSwitched")]
    public static partial void SourceSwitched(ILogger logger, string sourceId);

    [LoggerMessage(2, LogLevel.Information, "Display sink '{SinkId}' attached", EventName = "SinkAttached")]
    public static partial void SinkAttached(ILogger logger, string sinkId);

    [LoggerMessage(3, LogLevel.Information, "Display sink '{SinkId}' detached", EventName = "SinkDetached")]
    public static partial void SinkDetached(ILogger logger, string sinkId);

    [LoggerMessage(4, LogLevel.Warning, "Display sink '{SinkId}' threw; it is detached until it is attached again", EventName = "SinkFailed")]
    public static partial void SinkFailed(ILogger logger, string sinkId, Exception exception);
}
