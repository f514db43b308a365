using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vmm.Fuzz.Harness;

/// <summary>
/// A logger factory that keeps every exception logged at warning or above: a device that catches an unexpected
/// exception and logs it (the guest sees EIO or a failed device) is a finding the harness cannot see otherwise.
/// </summary>
public sealed class ExceptionRecordingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<(string Category, Exception Exception)> _logged = new();

    /// <summary>Takes out what was logged since the last call.</summary>
    public List<(string Category, Exception Exception)> Drain()
    {
        List<(string, Exception)> drained = [];
        while (_logged.TryDequeue(out (string, Exception) entry))
        {
            drained.Add(entry);
        }

        return drained;
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class Logger(ExceptionRecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (exception is not null && logLevel >= LogLevel.Warning)
            {
                owner._logged.Enqueue((category, exception));
            }
        }
    }
}
