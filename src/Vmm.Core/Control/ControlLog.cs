using Microsoft.Extensions.Logging;

namespace Vmm.Core.Control;

internal static partial class ControlLog
{
    [LoggerMessage(1, LogLevel.Information, "Control API listening on {SocketPath}")]
    public static partial void Listening(ILogger logger, string socketPath);

    [LoggerMessage(2, LogLevel.Debug, "Control client {ConnectionId} connected")]
    public static partial void ClientConnected(ILogger logger, long connectionId);

    [LoggerMessage(3, LogLevel.Debug, "Control client {ConnectionId} disconnected")]
    public static partial void ClientDisconnected(ILogger logger, long connectionId);

    [LoggerMessage(4, LogLevel.Warning, "Control client {ConnectionId}: rejected request ({Code}): {Message}")]
    public static partial void RequestRejected(ILogger logger, long connectionId, string code, string message);

    [LoggerMessage(5, LogLevel.Error, "Control command '{Command}' failed")]
    public static partial void CommandFailed(ILogger logger, string command, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Control client {ConnectionId} failed")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Control API on {SocketPath} stopped")]
    public static partial void Stopped(ILogger logger, string socketPath);

    [LoggerMessage(8, LogLevel.Warning, "Removed a stale control socket at {SocketPath}")]
    public static partial void RemovedStaleSocket(ILogger logger, string socketPath);
}
