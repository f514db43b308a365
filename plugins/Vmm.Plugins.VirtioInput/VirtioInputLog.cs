using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioInput;

internal static partial class VirtioInputLog
{
    [LoggerMessage(1, LogLevel.Warning, "virtio-input '{DeviceId}': the guest posted an eventq buffer shorter than {EventSize} bytes; its event is lost", EventName = "ShortEventBuffer")]
    public static partial void ShortEventBuffer(ILogger logger, string deviceId, int eventSize);

    [LoggerMessage(2, LogLevel.Warning, "virtio-input '{DeviceId}': ignored a statusq buffer of {Readable} readable and {Writable} writable bytes (expected one 8-byte event)", EventName = "InvalidStatusBuffer")]
    public static partial void InvalidStatusBuffer(ILogger logger, string deviceId, long readable, long writable);
}
