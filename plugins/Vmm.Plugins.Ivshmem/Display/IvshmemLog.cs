using Microsoft.Extensions.Logging;
using Vmm.Plugins.Ivshmem.Lgmp;

namespace Vmm.Plugins.Ivshmem.Display;

internal static partial class IvshmemLog
{
    [LoggerMessage(1, LogLevel.Information, "IVSHMEM '{DeviceId}': KVMFR session joined (host '{HostVersion}')", EventName = "CaptureSessionStarted")]
    public static partial void CaptureSessionStarted(ILogger logger, string deviceId, string hostVersion);

    [LoggerMessage(2, LogLevel.Information, "IVSHMEM '{DeviceId}': KVMFR session lost ({Reason}); waiting for the guest's producer", EventName = "CaptureSessionLost")]
    public static partial void CaptureSessionLost(ILogger logger, string deviceId, LgmpStatus reason);

    [LoggerMessage(3, LogLevel.Information, "IVSHMEM '{DeviceId}': guest frames are {Width}x{Height} {Type}", EventName = "CaptureModeChanged")]
    public static partial void CaptureModeChanged(ILogger logger, string deviceId, int width, int height, string type);

    [LoggerMessage(4, LogLevel.Warning, "IVSHMEM '{DeviceId}': frames of type {Type} cannot be shown (only BGRA and RGBA); skipped", EventName = "CaptureFormatUnsupported")]
    public static partial void CaptureFormatUnsupported(ILogger logger, string deviceId, string type);

    [LoggerMessage(5, LogLevel.Warning, "Display sink '{SinkId}' failed on a frame from IVSHMEM '{DeviceId}'", EventName = "CaptureSinkFailed")]
    public static partial void CaptureSinkFailed(ILogger logger, string deviceId, string sinkId, Exception exception);

    [LoggerMessage(6, LogLevel.Error, "IVSHMEM '{DeviceId}': the capture loop stopped", EventName = "CaptureFailed")]
    public static partial void CaptureFailed(ILogger logger, string deviceId, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "KVMFR export '{SinkId}' publishing on {Path} ({Size} bytes; looking-glass-client -f {Path})", EventName = "ExportStarted")]
    public static partial void ExportStarted(ILogger logger, string sinkId, string path, long size);

    [LoggerMessage(8, LogLevel.Warning, "KVMFR export '{SinkId}': {Width}x{Height} {Format} frames cannot be exported: {Reason}", EventName = "ExportModeUnsupported")]
    public static partial void ExportModeUnsupported(ILogger logger, string sinkId, int width, int height, string format, string reason);
}
