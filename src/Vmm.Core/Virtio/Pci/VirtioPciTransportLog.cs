using Microsoft.Extensions.Logging;

namespace Vmm.Core.Virtio.Pci;

internal static partial class VirtioPciTransportLog
{
    [LoggerMessage(1, LogLevel.Warning, "Virtio device '{DeviceId}': the driver's features 0x{Driver:x} are not acceptable (offered 0x{Offered:x}, VERSION_1 required); FEATURES_OK refused.", EventName = "FeaturesRefused")]
    public static partial void FeaturesRefused(ILogger logger, string deviceId, ulong driver, ulong offered);

    [LoggerMessage(2, LogLevel.Warning, "Virtio device '{DeviceId}': status write 0x{Value:x2} clears bits of 0x{Old:x2}; ignored.", EventName = "StatusBitsCleared")]
    public static partial void StatusBitsCleared(ILogger logger, string deviceId, byte old, byte value);

    [LoggerMessage(3, LogLevel.Warning, "Virtio device '{DeviceId}': queue {Queue} cannot be enabled; the device needs a reset.", EventName = "QueueRejected")]
    public static partial void QueueRejected(ILogger logger, Exception exception, string deviceId, int queue);
}
