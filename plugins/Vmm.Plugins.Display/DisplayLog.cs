using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.Display;

internal static partial class DisplayLog
{
    [LoggerMessage(1, LogLevel.Information, "PNG sink '{SinkId}' wrote {Path}", EventName = "SnapshotWritten")]
    public static partial void SnapshotWritten(ILogger logger, string sinkId, string path);

    [LoggerMessage(2, LogLevel.Information, "VNC sink '{SinkId}' listening on {EndPoint}", EventName = "VncListening")]
    public static partial void VncListening(ILogger logger, string sinkId, string endPoint);

    [LoggerMessage(3, LogLevel.Information, "VNC client {Client} connected", EventName = "VncClientConnected")]
    public static partial void VncClientConnected(ILogger logger, string client);

    [LoggerMessage(4, LogLevel.Information, "VNC client {Client} disconnected: {Reason}", EventName = "VncClientDisconnected")]
    public static partial void VncClientDisconnected(ILogger logger, string client, string reason);

    [LoggerMessage(5, LogLevel.Warning, "PNG sink '{SinkId}' could not write {Path}", EventName = "SnapshotFailed")]
    public static partial void SnapshotFailed(ILogger logger, string sinkId, string path, Exception exception);
}
