using Microsoft.Extensions.Logging;

namespace Vmm.VhostUser;

internal static partial class VhostUserLog
{
    [LoggerMessage(1, LogLevel.Information, "vhost-user server for device {DeviceId} listening on {SocketPath}.")]
    public static partial void Listening(ILogger logger, string deviceId, string socketPath);

    [LoggerMessage(2, LogLevel.Information, "vhost-user front-end connected to device {DeviceId}.")]
    public static partial void Connected(ILogger logger, string deviceId);

    [LoggerMessage(3, LogLevel.Information, "vhost-user front-end of device {DeviceId} disconnected.")]
    public static partial void Disconnected(ILogger logger, string deviceId);

    [LoggerMessage(4, LogLevel.Warning, "vhost-user front-end of device {DeviceId} broke the protocol; closing the connection.")]
    public static partial void ProtocolError(ILogger logger, Exception exception, string deviceId);

    [LoggerMessage(5, LogLevel.Debug, "vhost-user device {DeviceId}: {Request} (flags 0x{Flags:x}, {Size} bytes, {Descriptors} fds).")]
    public static partial void Request(ILogger logger, string deviceId, Protocol.VhostUserRequest request, uint flags, uint size, int descriptors);

    [LoggerMessage(6, LogLevel.Information, "vhost-user device {DeviceId} activated with features 0x{Features:x}.")]
    public static partial void Activated(ILogger logger, string deviceId, ulong features);

    [LoggerMessage(7, LogLevel.Information, "vhost-user device {DeviceId} stopped.")]
    public static partial void Deactivated(ILogger logger, string deviceId);

    [LoggerMessage(8, LogLevel.Error, "vhost-user device {DeviceId} failed; the front-end must reset it.")]
    public static partial void DeviceFailed(ILogger logger, Exception exception, string deviceId);

    [LoggerMessage(9, LogLevel.Error, "vhost-user session of device {DeviceId} ended with an unexpected error.")]
    public static partial void SessionFailed(ILogger logger, Exception exception, string deviceId);

    [LoggerMessage(10, LogLevel.Error, "vhost-user device {DeviceId} threw while taking ring {Ring}'s kick; the session watches it instead.")]
    public static partial void NotifierHandoffFailed(ILogger logger, Exception exception, string deviceId, int ring);
}
