using Microsoft.Extensions.Logging;

namespace Vmm.Qemu;

internal static partial class QemuPlatformLog
{
    [LoggerMessage(1, LogLevel.Information, "Starting {Qemu} (QEMU {Version}) with {Accelerator}: {Arguments}")]
    public static partial void Starting(ILogger logger, string qemu, Version version, QemuAccelerator accelerator, string arguments);

    [LoggerMessage(2, LogLevel.Information, "QEMU: {Line}")]
    public static partial void Stderr(ILogger logger, string line);

    [LoggerMessage(3, LogLevel.Information, "QEMU exited with code {ExitCode}.")]
    public static partial void Exited(ILogger logger, int exitCode);

    [LoggerMessage(4, LogLevel.Information, "Stopping QEMU ({Kind}).")]
    public static partial void StopRequested(ILogger logger, QemuStopKind kind);

    [LoggerMessage(5, LogLevel.Information, "Serving device {DeviceId} ({Driver}) over vhost-user at {SocketPath}.")]
    public static partial void ServingDevice(ILogger logger, string deviceId, string driver, string socketPath);

    [LoggerMessage(6, LogLevel.Warning, "QMP {Command} failed: {Message}")]
    public static partial void QmpFailed(ILogger logger, string command, string message);

    [LoggerMessage(7, LogLevel.Warning, "QEMU did not exit after QMP quit; killing it.")]
    public static partial void Killing(ILogger logger);
}
