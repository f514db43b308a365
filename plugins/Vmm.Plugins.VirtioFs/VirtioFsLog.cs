using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioFs;

internal static partial class VirtioFsLog
{
    [LoggerMessage(1, LogLevel.Warning, "virtio-fs '{DeviceId}': malformed request on queue {Queue}: {Reason}", EventName = "MalformedRequest")]
    public static partial void MalformedRequest(ILogger logger, string deviceId, int queue, string reason);

    [LoggerMessage(2, LogLevel.Error, "virtio-fs '{DeviceId}': {Opcode} failed unexpectedly; replying EIO", EventName = "UnexpectedFailure")]
    public static partial void UnexpectedFailure(ILogger logger, string deviceId, FuseOpcode opcode, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "virtio-fs '{DeviceId}': session started (guest FUSE {Major}.{Minor}, DAX window {WindowSize} bytes)", EventName = "SessionStarted")]
    public static partial void SessionStarted(ILogger logger, string deviceId, uint major, uint minor, ulong windowSize);

    [LoggerMessage(4, LogLevel.Debug, "virtio-fs '{DeviceId}': {Opcode} node {NodeId} -> errno {Errno}", EventName = "RequestFailed")]
    public static partial void RequestFailed(ILogger logger, string deviceId, FuseOpcode opcode, ulong nodeId, int errno);

    [LoggerMessage(5, LogLevel.Warning, "virtio-fs '{DeviceId}': request queue {Queue} did not stop (a request is blocked in the host kernel)", EventName = "QueueThreadStuck")]
    public static partial void QueueThreadStuck(ILogger logger, string deviceId, int queue);

    [LoggerMessage(6, LogLevel.Warning, "virtio-fs '{DeviceId}': creates do not run with the guest caller's ids, the host kernel does not check the caller's permission ({Reason})", EventName = "CredentialsUnavailable")]
    public static partial void CredentialsUnavailable(ILogger logger, string deviceId, string reason);

    [LoggerMessage(7, LogLevel.Warning, "virtio-fs '{DeviceId}': the request thread could not get a umask of its own (unshare(CLONE_FS): errno {Errno}); the VMM's umask applies to guest creates", EventName = "UmaskUnavailable")]
    public static partial void UmaskUnavailable(ILogger logger, string deviceId, int errno);
}
