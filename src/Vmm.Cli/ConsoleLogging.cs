using Microsoft.Extensions.Logging;

namespace Vmm.Cli;

/// <summary>Console logging to stderr, so stdout stays for reports and JSON.</summary>
internal static class ConsoleLogging
{
    /// <summary>A factory logging at <paramref name="minimumLevel"/> and above to stderr, set up on its first message.</summary>
    public static ILoggerFactory Create(LogLevel minimumLevel) => new DeferredLoggerFactory(minimumLevel, () => CreateNow(minimumLevel));

    private static ILoggerFactory CreateNow(LogLevel minimumLevel) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(minimumLevel)
        .AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        })
        .AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace));
}
