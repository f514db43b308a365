using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioVsock;

internal static partial class VirtioVsockLog
{
    [LoggerMessage(1, LogLevel.Debug, "virtio-vsock '{DeviceId}': dropped a packet with RST: {Reason}", EventName = "BadPacket")]
    public static partial void BadPacket(ILogger logger, string deviceId, string reason);

    [LoggerMessage(2, LogLevel.Debug, "virtio-vsock '{DeviceId}': guest port {GuestPort} could not reach {Path}: {Reason}", EventName = "HostConnectFailed")]
    public static partial void HostConnectFailed(ILogger logger, string deviceId, uint guestPort, string path, string reason);

    [LoggerMessage(3, LogLevel.Debug, "virtio-vsock '{DeviceId}': a host client was turned away: {Reason}", EventName = "ClientRejected")]
    public static partial void ClientRejected(ILogger logger, string deviceId, string reason);

    [LoggerMessage(4, LogLevel.Debug, "virtio-vsock '{DeviceId}': connection host:{HostPort} guest:{GuestPort} ended: {Reason}", EventName = "ConnectionEnded")]
    public static partial void ConnectionEnded(ILogger logger, string deviceId, uint hostPort, uint guestPort, string reason);

    [LoggerMessage(5, LogLevel.Warning, "virtio-vsock '{DeviceId}': a request chain is too short for a packet header ({Length} bytes); dropped", EventName = "ShortChain")]
    public static partial void ShortChain(ILogger logger, string deviceId, long length);
}
