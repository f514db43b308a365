using Microsoft.Extensions.Logging;
using Vmm.Contracts.Input;

namespace Vmm.Core.Input;

internal static partial class InputSourceLog
{
    [LoggerMessage(1, LogLevel.Information, "Reading host input from {Source} for the guest {Kind}")]
    public static partial void EvdevStarted(ILogger logger, string source, InputDeviceKind kind);

    [LoggerMessage(2, LogLevel.Information, "Stopped reading host input from {Source} after {Events} events")]
    public static partial void EvdevStopped(ILogger logger, string source, long events);

    [LoggerMessage(3, LogLevel.Warning, "Host input {Source} ended with {Bytes} bytes of an incomplete record")]
    public static partial void EvdevTrailingBytes(ILogger logger, string source, int bytes);

    [LoggerMessage(4, LogLevel.Error, "Reading host input from {Source} failed")]
    public static partial void EvdevFailed(ILogger logger, string source, Exception exception);
}
