using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioGpu;

internal static partial class VirtioGpuLog
{
    [LoggerMessage(1, LogLevel.Debug, "virtio-gpu '{DeviceId}': command 0x{Command:x4} answered 0x{Response:x4}: {Reason}", EventName = "CommandRejected")]
    public static partial void CommandRejected(ILogger logger, string deviceId, uint command, uint response, string reason);

    [LoggerMessage(2, LogLevel.Debug, "virtio-gpu '{DeviceId}': cursor command ignored: {Reason}", EventName = "CursorCommandIgnored")]
    public static partial void CursorCommandIgnored(ILogger logger, string deviceId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "virtio-gpu '{DeviceId}': the display sink failed", EventName = "SinkFailed")]
    public static partial void SinkFailed(ILogger logger, string deviceId, Exception exception);

    [LoggerMessage(5, LogLevel.Trace, "virtio-gpu '{DeviceId}': command 0x{Command:x4} ({Length} bytes, flags 0x{Flags:x}) answered 0x{Response:x4} ({ResponseLength} of {Writable} bytes)", EventName = "CommandHandled")]
    public static partial void CommandHandled(ILogger logger, string deviceId, uint command, int length, uint flags, uint response, int responseLength, long writable);

    [LoggerMessage(4, LogLevel.Information, "virtio-gpu '{DeviceId}': scanout {Scanout} shows resource {ResourceId} ({Width}x{Height})", EventName = "ScanoutSet")]
    public static partial void ScanoutSet(ILogger logger, string deviceId, uint scanout, uint resourceId, uint width, uint height);
}
