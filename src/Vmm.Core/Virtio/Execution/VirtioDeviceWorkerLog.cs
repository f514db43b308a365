using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Virtio.Execution;

internal static partial class VirtioDeviceWorkerLog
{
    [LoggerMessage(1, LogLevel.Error, "Virtio device '{DeviceId}' ({DeviceType}) failed in {Operation}; it needs a reset by the driver.", EventName = "DeviceFailed")]
    public static partial void DeviceFailed(ILogger logger, Exception exception, string deviceId, VirtioDeviceType deviceType, string operation);

    [LoggerMessage(2, LogLevel.Warning, "Virtio device '{DeviceId}' ({DeviceType}) threw while resetting; it starts over anyway.", EventName = "DeviceResetFailed")]
    public static partial void DeviceResetFailed(ILogger logger, Exception exception, string deviceId, VirtioDeviceType deviceType);

    [LoggerMessage(3, LogLevel.Debug, "Virtio device '{DeviceId}' ({DeviceType}) activated.", EventName = "DeviceActivated")]
    public static partial void DeviceActivated(ILogger logger, string deviceId, VirtioDeviceType deviceType);

    [LoggerMessage(4, LogLevel.Error, "Virtio device '{DeviceId}' ({DeviceType}) did not reset within {Seconds} s: its thread is stuck in the device; the reset happens if the call ever returns.", EventName = "ResetAbandoned")]
    public static partial void ResetAbandoned(ILogger logger, string deviceId, VirtioDeviceType deviceType, double seconds);

    [LoggerMessage(5, LogLevel.Error, "Virtio device '{DeviceId}' ({DeviceType}) did not stop within {Seconds} s: its thread is stuck in the device and is left behind.", EventName = "DisposeAbandoned")]
    public static partial void DisposeAbandoned(ILogger logger, string deviceId, VirtioDeviceType deviceType, double seconds);

    [LoggerMessage(6, LogLevel.Warning, "Virtio device '{DeviceId}' ({DeviceType}): its file descriptors and threads cannot be counted here (/proc unreadable), so only its hang limit is enforced.", EventName = "MeterUnavailable")]
    public static partial void MeterUnavailable(ILogger logger, Exception exception, string deviceId, VirtioDeviceType deviceType);
}
