using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioRng;

internal static partial class VirtioRngLog
{
    [LoggerMessage(1, LogLevel.Warning, "virtio-rng '{DeviceId}': the entropy file ran dry; requests get fewer bytes", EventName = "SourceRanDry")]
    public static partial void SourceRanDry(ILogger logger, string deviceId);
}
