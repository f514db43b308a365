using Microsoft.Extensions.Logging;
using Vmm.Contracts.Input;

namespace Vmm.Core.Input;

internal static partial class InputRouterLog
{
    [LoggerMessage(1, LogLevel.Debug, "Input device '{DeviceId}' ({Kind}) joined the input router")]
    public static partial void TargetAdded(ILogger logger, string deviceId, InputDeviceKind kind);

    [LoggerMessage(2, LogLevel.Debug, "Input device '{DeviceId}' left the input router")]
    public static partial void TargetRemoved(ILogger logger, string deviceId);

    [LoggerMessage(3, LogLevel.Error, "Input device '{DeviceId}' failed to take events")]
    public static partial void TargetFailed(ILogger logger, string deviceId, Exception exception);

    [LoggerMessage(4, LogLevel.Error, "A status listener failed for input device '{DeviceId}'")]
    public static partial void StatusListenerFailed(ILogger logger, string deviceId, Exception exception);
}
